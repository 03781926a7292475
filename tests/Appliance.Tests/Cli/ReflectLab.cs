using System.Text.RegularExpressions;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Cli;

/// <summary>A Linux host and a reflector namespace joined by a veth, with static neighbours on the host.</summary>
internal sealed partial class ReflectLab
{
    public const string HostIpv4 = "198.18.0.1", ReflectorIpv4 = "198.18.0.2";
    public const string HostIpv6 = "2001:2::1", ReflectorIpv6 = "2001:2::2";

    public ReflectLab(NetworkLab lab)
    {
        Host = lab.AddNamespace("host");
        Reflector = lab.AddNamespace("refl");
        (HostIf, ReflectorIf) = lab.AddVeth(Host, Reflector);
        // The reflector's own kernel must not talk on the link (IPv6 DAD, MLD, router
        // solicitations), or its frames would look like reflections that went wrong.
        Reflector.Check("sh", "-c", $"echo 1 > /proc/sys/net/ipv6/conf/{ReflectorIf}/disable_ipv6");
        // Quiet IPv6 (no router solicitations, no DAD) so only the test's own traffic flows.
        Host.Check("sh", "-c", $"echo 0 > /proc/sys/net/ipv6/conf/{HostIf}/router_solicitations");
        // Full checksums in software: a veth leaves them unfinished for "hardware" otherwise.
        Host.Check("ethtool", "-K", HostIf, "tx", "off");
        Host.Ip("addr", "add", HostIpv4 + "/24", "dev", HostIf);
        Host.Ip("addr", "add", HostIpv6 + "/64", "dev", HostIf, "nodad");
        HostMac = MacOf(Host, HostIf);
        ReflectorMac = MacOf(Reflector, ReflectorIf);
        // The reflector answers no ARP/NDP (it would bounce the request back), so the host
        // learns its MAC statically.
        Host.Ip("neigh", "replace", ReflectorIpv4, "lladdr", ReflectorMac, "dev", HostIf, "nud", "permanent");
        Host.Ip("neigh", "replace", ReflectorIpv6, "lladdr", ReflectorMac, "dev", HostIf, "nud", "permanent");
    }

    public NetNamespace Host { get; }

    public NetNamespace Reflector { get; }

    public string HostIf { get; }

    public string ReflectorIf { get; }

    public string HostMac { get; }

    public string ReflectorMac { get; }

    public static byte[] MacBytes(string mac) => [.. mac.Split(':').Select(h => Convert.ToByte(h, 16))];

    /// <summary>True when <c>ip -d link show</c> reports an XDP program on the device.</summary>
    public static bool HasXdpProgram(NetNamespace ns, string dev) =>
        XdpProgram().IsMatch(ns.Ip("-d", "link", "show", "dev", dev));

    private static string MacOf(NetNamespace ns, string dev) =>
        Mac().Match(ns.Ip("-br", "link", "show", "dev", dev)).Value;

    [GeneratedRegex("([0-9a-f]{2}:){5}[0-9a-f]{2}")]
    private static partial Regex Mac();

    [GeneratedRegex(@"prog/xdp|xdpgeneric|xdpdrv|\bxdp\b")]
    private static partial Regex XdpProgram();
}
