using System.Net;
using System.Net.Sockets;

namespace XdpStack.Xdp.Routes;

/// <summary>One route of the kernel's FIB as an RTM_NEWROUTE or RTM_DELROUTE message describes it.</summary>
/// <remarks>
/// A multipath route (RTA_MULTIPATH) has one <see cref="NextHops"/> entry per rtnexthop, in the kernel's order, each
/// with its weight (rtnh_hops + 1). Next hops through a gateway of the
/// other family (RTA_VIA, RFC 5549) cannot be expressed by the stack's routes and are counted in
/// <see cref="OtherFamilyGateways"/> instead of listed.
/// </remarks>
/// <param name="Family">InterNetwork or InterNetworkV6.</param>
/// <param name="Destination">The network (RTA_DST; the unspecified address for a default route).</param>
/// <param name="PrefixLength">rtm_dst_len.</param>
/// <param name="Table">RTA_TABLE, or rtm_table when the attribute is absent.</param>
/// <param name="Protocol">rtm_protocol: who installed it (2 kernel, 3 boot, 4 static, 11 zebra, 12 bird, ...).</param>
/// <param name="Type">rtm_type: 1 unicast; 6 blackhole, 7 unreachable and the others do not forward.</param>
/// <param name="Flags">rtm_flags (RTM_F_CLONED marks a cache entry, not a FIB route).</param>
/// <param name="Metric">RTA_PRIORITY, 0 when absent.</param>
/// <param name="NextHops">The next hops, one for a plain route.</param>
/// <param name="OtherFamilyGateways">Next hops left out because their gateway is of the other family.</param>
public sealed record KernelRoute(
    AddressFamily Family,
    IPAddress Destination,
    int PrefixLength,
    uint Table,
    byte Protocol,
    byte Type,
    uint Flags,
    uint Metric,
    IReadOnlyList<KernelNextHop> NextHops,
    int OtherFamilyGateways)
{
    /// <summary>rtm_type RTN_UNICAST: the only type that forwards to a next hop.</summary>
    public const byte UnicastType = 1;

    /// <summary>rtm_flags RTM_F_CLONED: a route cache entry (IPv6 exceptions), never a FIB route.</summary>
    public const uint ClonedFlag = 0x200;

    /// <summary>True for a route cache entry rather than a FIB route.</summary>
    public bool IsCloned => (Flags & ClonedFlag) != 0;

    /// <summary>True when the route forwards (rtm_type RTN_UNICAST).</summary>
    public bool IsUnicast => Type == UnicastType;

    public override string ToString() =>
        $"{Destination}/{PrefixLength} table {Table} proto {Protocol} type {Type} metric {Metric} [{string.Join(", ", NextHops.Select(HopText))}]";

    private static string HopText(KernelNextHop h) =>
        (h.Gateway is null ? $"dev #{h.IfIndex}" : $"via {h.Gateway} dev #{h.IfIndex}") + (h.Weight == 1 ? "" : $" weight {h.Weight}");
}
