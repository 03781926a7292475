using System.Net;

namespace XdpStack.Xdp.Routes;

/// <summary>One next hop of a kernel route: the output interface, and the gateway or null for an on-link route.</summary>
/// <param name="IfIndex">The kernel's interface index (RTA_OIF or rtnh_ifindex); 0 when the route names none.</param>
/// <param name="Gateway">RTA_GATEWAY, or RTA_VIA of the route's own family; null when on-link.</param>
public readonly record struct KernelNextHop(int IfIndex, IPAddress? Gateway);
