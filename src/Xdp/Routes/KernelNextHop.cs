using System.Net;

namespace XdpStack.Xdp.Routes;

/// <summary>One next hop of a kernel route: the output interface, the gateway or null for an on-link route, and its weight in a multipath route.</summary>
/// <remarks>
/// Two next hops of one route are the same next hop when interface and gateway match, whatever their weights
/// (<see cref="IsSamePath"/>): the kernel identifies them so, and a notification may restate a weight.
/// </remarks>
/// <param name="IfIndex">The kernel's interface index (RTA_OIF or rtnh_ifindex); 0 when the route names none.</param>
/// <param name="Gateway">RTA_GATEWAY, or RTA_VIA of the route's own family; null when on-link.</param>
/// <param name="Weight">rtnh_hops + 1, 1 to 256, as <c>ip route</c> prints <c>weight N</c>; 1 for a route without RTA_MULTIPATH.</param>
public readonly record struct KernelNextHop(int IfIndex, IPAddress? Gateway, int Weight = 1)
{
    /// <summary>True when <paramref name="other"/> leaves through the same interface and gateway.</summary>
    public bool IsSamePath(KernelNextHop other) => IfIndex == other.IfIndex && Equals(Gateway, other.Gateway);
}
