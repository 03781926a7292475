using System.Globalization;

namespace XdpStack.Appliance.Routing;

/// <summary>The names <c>ip route</c> prints for rtm_protocol values (include/uapi/linux/rtnetlink.h, iproute2's rt_protos).</summary>
internal static class KernelProtocolNames
{
    public static string Name(byte protocol) => protocol switch
    {
        0 => "unspec",
        1 => "redirect",
        2 => "kernel",
        3 => "boot",
        4 => "static",
        8 => "gated",
        9 => "ra",
        10 => "mrt",
        11 => "zebra",
        12 => "bird",
        13 => "dnrouted",
        14 => "xorp",
        15 => "ntk",
        16 => "dhcp",
        17 => "mrouted",
        18 => "keepalived",
        42 => "babel",
        99 => "openr",
        186 => "bgp",
        187 => "isis",
        188 => "ospf",
        189 => "rip",
        192 => "eigrp",
        _ => protocol.ToString(CultureInfo.InvariantCulture),
    };
}
