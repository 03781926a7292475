using XdpStack.Fuzz.Router;
using XdpStack.Stack;
using XdpStack.Stack.FastPath;

namespace XdpStack.Fuzz.Targets;

/// <summary>The IPv4 fast path (DIR-24-8 lookup four lanes at a time) against the full stack.</summary>
internal sealed class FastPath4Target : FastPathTarget
{
    public override string Name => "fast4";

    public override string Covers => "Ipv4FastForwarder alone and batched = the full stack's forwarding";

    protected override FastForward CreateForwarder(NetworkStack stack) => new Ipv4FastForwarder(stack).Forward;

    protected override byte[] TransitProbe() => SeedFrames.Udp4(FuzzRouter.HostA, FuzzRouter.HostB, 64, 32);
}
