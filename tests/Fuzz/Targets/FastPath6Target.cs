using XdpStack.Stack;
using XdpStack.Stack.FastPath;

namespace XdpStack.Fuzz.Targets;

/// <summary>The IPv6 fast path against the full stack.</summary>
internal sealed class FastPath6Target : FastPathTarget
{
    public override string Name => "fast6";

    public override string Covers => "Ipv6FastForwarder alone and batched = the full stack's forwarding";

    protected override FastForward CreateForwarder(NetworkStack stack) => new Ipv6FastForwarder(stack).Forward;
}
