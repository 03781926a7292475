using XdpStack.Stack;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

/// <summary>One <c>[[neighbor]]</c>: a static ARP or NDP entry that never expires.</summary>
internal sealed record NeighborConfig(string Interface, IpAddress Address, MacAddress Mac)
{
    public override string ToString() => $"{Address} lladdr {Mac} dev {Interface}";
}
