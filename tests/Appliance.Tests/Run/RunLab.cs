using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Run;
using XdpStack.Lab;
using XdpStack.Stack;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>
/// Host A — appliance — host B: three namespaces joined by two veths. A is 198.18.1.2/24 and 2001:2:0:1::2/64 behind
/// the appliance's first interface (.1, ::1), B is 198.18.2.2/24 and 2001:2:0:2::2/64 behind its second; each host
/// routes everything else through the appliance.
/// </summary>
internal sealed class RunLab : IDisposable
{
    public const string HostAIpv4 = "198.18.1.2", HostBIpv4 = "198.18.2.2";
    public const string RouterAIpv4 = "198.18.1.1", RouterBIpv4 = "198.18.2.1";
    public const string HostAIpv6 = "2001:2:0:1::2", HostBIpv6 = "2001:2:0:2::2";
    public const string RouterAIpv6 = "2001:2:0:1::1", RouterBIpv6 = "2001:2:0:2::1";

    private readonly NetworkLab _lab = new();
    private readonly int _workers;

    public RunLab(int queuesA = 1, int queuesB = 1, int mtuA = 1500, int mtuB = 1500)
    {
        _workers = Math.Max(queuesA, queuesB);
        HostA = _lab.AddNamespace("a");
        Dut = _lab.AddNamespace("dut");
        HostB = _lab.AddNamespace("b");
        (HostAIf, DutAIf) = _lab.AddVeth(HostA, Dut, mtuA, queuesA);
        (DutBIf, HostBIf) = _lab.AddVeth(Dut, HostB, mtuB, queuesB);
        RouterDemo.QuietOwnedLinks(Dut, DutAIf, DutBIf);
        RouterDemo.ConfigureHost(HostA, HostAIf, HostAIpv4, HostAIpv6, RouterAIpv4, RouterAIpv6);
        RouterDemo.ConfigureHost(HostB, HostBIf, HostBIpv4, HostBIpv6, RouterBIpv4, RouterBIpv6);
    }

    public NetNamespace HostA { get; }

    public NetNamespace Dut { get; }

    public NetNamespace HostB { get; }

    public string HostAIf { get; }

    public string DutAIf { get; }

    public string DutBIf { get; }

    public string HostBIf { get; }

    public string Tag => _lab.Tag;

    /// <summary>The router's plan: both addresses per interface, their connected routes, forwarding on for both families, and <paramref name="neighbors"/> as static entries.</summary>
    public static StackPlan RouterPlan(IReadOnlyList<PlannedNeighbor>? neighbors = null)
    {
        NicId a = new(1), b = new(2);
        PlannedAddress[] addresses =
        [
            new(a, IpAddress.Parse(RouterAIpv4), 24), new(a, IpAddress.Parse(RouterAIpv6), 64),
            new(b, IpAddress.Parse(RouterBIpv4), 24), new(b, IpAddress.Parse(RouterBIpv6), 64),
        ];
        return new StackPlan(addresses, [.. StackPlan.ConnectedIpv4(addresses)], [.. StackPlan.ConnectedIpv6(addresses)], neighbors ?? [],
            [new(a, true, true), new(b, true, true)]);
    }

    /// <summary>Starts the appliance in-process inside the DUT namespace.</summary>
    public ApplianceHost StartInProcess(StackPlan plan, Func<DataPlaneSettings, DataPlaneSettings>? tune = null, List<string>? report = null)
    {
        var settings = new DataPlaneSettings([new DataPlaneInterface(DutAIf, null), new DataPlaneInterface(DutBIf, null)])
        {
            FramesPerWorker = 8192,
            FillRingSize = 2048,
            LpmHugePages = false,
            // Pinned: a worker migrating between CPUs would feed the receiving veth's per-CPU backlogs in turn, and
            // Linux would reorder a flow behind the appliance's back (a veth without GRO or XDP has no NAPI of its own).
            Cores = [.. Enumerable.Repeat(Environment.ProcessorCount - 1, _workers)],
        };
        settings = tune?.Invoke(settings) ?? settings;
        var lines = report ?? [];
        return NamespaceThread.Run(Dut, () => ApplianceHost.Start(settings, plan, line => { lock (lines) lines.Add(line); }));
    }

    /// <summary>Both hosts' addresses as static neighbours of the router, so no NUD state changes while a test measures.</summary>
    public IReadOnlyList<PlannedNeighbor> StaticHosts()
    {
        MacAddress a = MacAddress.Parse(MacOf(HostA, HostAIf)), b = MacAddress.Parse(MacOf(HostB, HostBIf));
        return
        [
            new(new NicId(1), IpAddress.Parse(HostAIpv4), a), new(new NicId(1), IpAddress.Parse(HostAIpv6), a),
            new(new NicId(2), IpAddress.Parse(HostBIpv4), b), new(new NicId(2), IpAddress.Parse(HostBIpv6), b),
        ];
    }

    /// <summary>True when <c>ip -d link show</c> reports an XDP program on the device.</summary>
    public static bool HasXdp(NetNamespace ns, string dev) => ns.Ip("-d", "link", "show", "dev", dev).Contains("prog/xdp", StringComparison.Ordinal);

    public static string MacOf(NetNamespace ns, string dev) =>
        System.Text.RegularExpressions.Regex.Match(ns.Ip("-br", "link", "show", "dev", dev), "([0-9a-f]{2}:){5}[0-9a-f]{2}").Value;

    public void Dispose() => _lab.Dispose();
}
