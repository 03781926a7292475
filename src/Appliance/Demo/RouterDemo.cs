using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Run;
using XdpStack.Appliance.Workers;
using XdpStack.Lab;
using XdpStack.Stack;
using XdpStack.Stack.Transport.Udp;

namespace XdpStack.Appliance.Demo;

/// <summary><c>xdpstack demo</c>: host A — xdpstack — host B in namespaces it builds; pings, traceroutes and a UDP transfer through the appliance, then its counters.</summary>
internal static partial class RouterDemo
{
    private const string HostA4 = "198.18.1.2", RouterA4 = "198.18.1.1", HostB4 = "198.18.2.2", RouterB4 = "198.18.2.1";
    private const string HostA6 = "2001:2:0:1::2", RouterA6 = "2001:2:0:1::1", HostB6 = "2001:2:0:2::2", RouterB6 = "2001:2:0:2::1";
    private const int Datagrams = 2000;
    private const int DatagramSize = 512;
    private const int EchoPort = 7;

    public static int Run(TextWriter o)
    {
        DemoPrerequisites.Ensure(o);
        var settings = new DataPlaneSettings([])
        {
            FramesPerWorker = 8192,
            FillRingSize = 2048,
            LpmHugePages = false,
        };
        string? missing = Capabilities.Missing(Capabilities.Effective(), Capabilities.MemlockLimit(), DataPlane.UmemBytes(settings, 1));
        if (missing is not null)
            throw new ApplianceException(missing);

        return DemoSession.Run(o, "xdpstack", session => RunSteps(o, session, settings));
    }

    private static int RunSteps(TextWriter o, DemoSession session, DataPlaneSettings settings)
    {
        NetworkLab lab = session.Lab;
        o.WriteLine("xdpstack demo: host A and host B talk through xdpstack, which routes between them.");
        o.WriteLine("(The reflector demo is 'xdpstack demo reflect'.)");
        o.WriteLine();
        session.ReportLeftovers();
        NetNamespace a = lab.AddNamespace("a"), dut = lab.AddNamespace("dut"), b = lab.AddNamespace("b");
        (string aIf, string dutA) = lab.AddVeth(a, dut);
        (string dutB, string bIf) = lab.AddVeth(dut, b);
        QuietOwnedLinks(dut, dutA, dutB);
        ConfigureHost(a, aIf, HostA4, HostA6, RouterA4, RouterA6);
        ConfigureHost(b, bIf, HostB4, HostB6, RouterB4, RouterB6);
        o.WriteLine("1. Lab built (removed again at the end, also on Ctrl-C):");
        o.WriteLine($"     namespace {a.Name,-14} host A    {aIf,-14} {HostA4}/24 {HostA6}/64, default via xdpstack");
        o.WriteLine($"     namespace {dut.Name,-14} xdpstack  {dutA,-14} {RouterA4}/24 {RouterA6}/64");
        o.WriteLine($"     {"",-24}           {dutB,-14} {RouterB4}/24 {RouterB6}/64");
        o.WriteLine($"     namespace {b.Name,-14} host B    {bIf,-14} {HostB4}/24 {HostB6}/64, default via xdpstack");
        o.WriteLine();

        NicId nicA = new(1), nicB = new(2);
        PlannedAddress[] addresses =
        [
            new(nicA, IpAddress.Parse(RouterA4), 24), new(nicA, IpAddress.Parse(RouterA6), 64),
            new(nicB, IpAddress.Parse(RouterB4), 24), new(nicB, IpAddress.Parse(RouterB6), 64),
        ];
        var plan = new StackPlan(addresses, [.. StackPlan.ConnectedIpv4(addresses)], [.. StackPlan.ConnectedIpv6(addresses)], [],
            [new(nicA, true, true), new(nicB, true, true)]);
        settings = settings with { Interfaces = [new DataPlaneInterface(dutA, null), new DataPlaneInterface(dutB, null)] };
        var report = new List<string>();
        using ApplianceHost host = NamespaceThread.Run(dut, () => ApplianceHost.Start(settings, plan, report.Add));
        session.Started(host);
        if (host.Udp.AddService(UdpServiceKind.Echo, EchoPort) is not StackError.None and var refused)
            throw new ApplianceException($"the stack refused the UDP echo service: {refused}");
        o.WriteLine($"2. xdpstack started inside {dut.Name}, the stack on AF_XDP (as 'xdpstack run' does):");
        foreach (string line in report)
            o.WriteLine("     " + line);
        o.WriteLine($"     Routes: the two connected /24s and /64s; forwarding on; UDP echo on port {EchoPort}.");
        o.WriteLine();

        if (!session.Interrupted)
        {
            o.WriteLine("3. Pings through xdpstack (TTL 63: it is one hop) and to it:");
            Ping(o, a, "A", HostB4);
            Ping(o, b, "B", HostA6);
            Ping(o, a, "A", RouterB6);
            o.WriteLine();
        }

        if (!session.Interrupted)
        {
            o.WriteLine("4. traceroute from host A: xdpstack answers the first hop with ICMP Time Exceeded:");
            Traceroute(o, a, HostB4, "-4");
            Traceroute(o, a, HostB6, "-6");
            o.WriteLine();
        }

        if (!session.Interrupted)
        {
            o.WriteLine($"5. UDP through xdpstack: host A sends {Datagrams} datagrams of {DatagramSize} bytes to host B, each family:");
            UdpTransfer.Result v4 = UdpTransfer.Run(a, HostA4, b, HostB4, Datagrams, DatagramSize);
            o.WriteLine($"     IPv4: {v4.Received} received, {v4.Intact} with every byte right, {(v4.InOrder ? "in order" : "NOT in order")}");
            UdpTransfer.Result v6 = UdpTransfer.Run(a, HostA6, b, HostB6, Datagrams, DatagramSize);
            o.WriteLine($"     IPv6: {v6.Received} received, {v6.Intact} with every byte right, {(v6.InOrder ? "in order" : "NOT in order")}");
            int echoed = NamespaceThread.Run(a, () => UdpBurst.SendAndCount(IPAddress.Parse(HostA4), new IPEndPoint(IPAddress.Parse(RouterA4), EchoPort), 100, 64, TimeSpan.FromSeconds(2)));
            o.WriteLine($"     UDP echo: {echoed} of 100 datagrams to {RouterA4}:{EchoPort} came back.");
            o.WriteLine();
        }

        host.Plane.Stop();
        o.WriteLine("6. xdpstack counters:");
        foreach (RunWorker worker in host.Plane.Workers)
        {
            RunWorkerCounters c = worker.Counters;
            o.WriteLine($"     worker {worker.Index}: fast path forwarded {c.FastForwardedIpv4} IPv4 and {c.FastForwardedIpv6} IPv6 frames; "
                + $"{c.SlowPath} went to the stack, {c.InPlaceReplies} answered in place, {c.StackBuilt} built by the stack");
            foreach (RunPort port in worker.Ports)
                o.WriteLine($"       {port.Link.Name} queue {port.Socket.QueueId}: received {port.RxPackets}, sent {port.TxPackets}");
        }
        foreach (Nic nic in host.Stack.Nics.Values.OrderBy(n => n.Id.Value))
        {
            o.WriteLine($"     {nic.Name}: {nic.Stats[StatCounter.IcmpEchoRequestsReceived] + nic.Stats[StatCounter.Icmpv6EchoRequestsReceived]} echo requests answered, "
                + $"{nic.Stats[StatCounter.Ipv4ForwardTtlExceeded]} IPv4 TTL expiries, {nic.Stats[StatCounter.UdpEchoReplies]} UDP echoes");
        }
        o.WriteLine();
        host.Dispose();
        lab.Dispose();
        if (session.Interrupted)
            return 130;
        o.WriteLine("7. Done: programs detached, namespaces and veths removed.");
        return 0;
    }

    /// <summary>xdpstack owns these links: the namespace's own kernel must not talk on them (DAD, MLD, solicitations).</summary>
    internal static void QuietOwnedLinks(NetNamespace ns, params string[] devices)
    {
        foreach (string dev in devices)
            ns.Check("sh", "-c", $"echo 1 > /proc/sys/net/ipv6/conf/{dev}/disable_ipv6");
    }

    /// <summary>A Linux host on <paramref name="dev"/> with both addresses (/24, /64) and default routes through the appliance.</summary>
    internal static void ConfigureHost(NetNamespace ns, string dev, string v4, string v6, string gw4, string gw6)
    {
        // A veth leaves UDP/TCP checksums for "hardware" to finish; what AF_XDP sees must be complete.
        ns.Check("ethtool", "-K", dev, "tx", "off");
        ns.Check("sh", "-c", $"echo 0 > /proc/sys/net/ipv6/conf/{dev}/router_solicitations");
        ns.Ip("addr", "add", v4 + "/24", "dev", dev);
        ns.Ip("addr", "add", v6 + "/64", "dev", dev, "nodad");
        ns.Ip("route", "add", "default", "via", gw4);
        ns.Ip("-6", "route", "add", "default", "via", gw6);
    }

    private static void Ping(TextWriter o, NetNamespace from, string name, string to)
    {
        CommandResult ping = from.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", to);
        Match summary = PingSummary().Match(ping.StandardOutput);
        Match ttl = PingTtl().Match(ping.StandardOutput);
        o.WriteLine($"     host {name}: ping {to,-14} {(summary.Success ? summary.Groups[1].Value : "?")} of 3 answered{(ttl.Success ? ", " + ttl.Value : "")}");
    }

    private static void Traceroute(TextWriter o, NetNamespace from, string to, string family)
    {
        CommandResult trace = from.Run(TimeSpan.FromSeconds(30), "traceroute", family, "-n", "-q", "1", "-w", "2", "-m", "5", to);
        foreach (string line in trace.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            o.WriteLine("     " + line);
    }

    [GeneratedRegex(@"(\d+) received")]
    private static partial Regex PingSummary();

    [GeneratedRegex(@"ttl=\d+")]
    private static partial Regex PingTtl();
}
