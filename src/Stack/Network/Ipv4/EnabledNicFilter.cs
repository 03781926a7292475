using XdpStack.Stack.Routing;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>A route filter that accepts routes through NICs of one stack that exist and are enabled.</summary>
internal readonly struct EnabledNicFilter(NetworkStack stack) : INicFilter
{
    public bool IsUsable(int nic) => stack.TryGetNic(new NicId(nic), out Nic n) && n.Enabled;
}
