using XdpStack.Fuzz.Router;
using XdpStack.Stack;
using XdpStack.Stack.FastPath;

namespace XdpStack.Fuzz.Targets;

/// <summary>The IPv6 fast path against the full stack.</summary>
internal sealed class FastPath6Target : FastPathTarget
{
    public override string Name => "fast6";

    public override string Covers => "Ipv6FastForwarder alone and batched = the full stack's forwarding";

    protected override FastForward CreateForwarder(NetworkStack stack) => new Ipv6FastForwarder(stack).Forward;

    protected override byte[] TransitProbe() => SeedFrames.Udp6(FuzzRouter.Host6A, FuzzRouter.Host6B, 64, 32);
}
