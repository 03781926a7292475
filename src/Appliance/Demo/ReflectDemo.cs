using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Workers;
using XdpStack.Lab;

namespace XdpStack.Appliance.Demo;

/// <summary><c>xdpstack demo reflect</c>: builds a two-namespace lab, reflects a Linux host's traffic, shows the counts, removes the lab.</summary>
internal static partial class ReflectDemo
{
    private const string HostAddress = "198.18.0.1";
    private const string ReflectorAddress = "198.18.0.2";
    private const int PingCount = 5;
    private const int UdpCount = 1000;
    private const int UdpPayload = 64;

    public static Command Create()
    {
        var command = new Command("reflect", "Build a throw-away lab (two network namespaces and a veth), run the reflector in one, and let a Linux host in the other ping it and send it UDP. Needs root; leaves nothing behind.");
        command.SetAction(_ => Run(Console.Out));
        return command;
    }

    public static int Run(TextWriter o)
    {
        string? missing = Capabilities.Missing(Capabilities.Effective(), Capabilities.MemlockLimit(), Reflector.UmemBytes(1));
        if (missing is not null)
            throw new ApplianceException(missing);

        return DemoSession.Run(o, "reflector", session => RunSteps(o, session));
    }

    private static int RunSteps(TextWriter o, DemoSession session)
    {
        NetworkLab lab = session.Lab;
        o.WriteLine("xdpstack demo: a Linux host talks to the xdpstack reflector over a virtual cable.");
        o.WriteLine();
        session.ReportLeftovers();
        NetNamespace host = lab.AddNamespace("host");
        NetNamespace refl = lab.AddNamespace("refl");
        (string hostIf, string reflIf) = lab.AddVeth(host, refl);
        host.Ip("addr", "add", HostAddress + "/24", "dev", hostIf);
        // Only the reflector should answer on the reflector's side, not its namespace's IPv6.
        refl.Check("sh", "-c", $"echo 1 > /proc/sys/net/ipv6/conf/{reflIf}/disable_ipv6");
        // A veth hands frames over with the UDP/TCP checksum left for "hardware" to finish; a
        // reflected frame would carry that unfinished sum back. Make the host finish it itself,
        // as it would before a real wire.
        host.Check("ethtool", "-K", hostIf, "tx", "off");
        string reflMac = MacOf(refl, reflIf), hostMac = MacOf(host, hostIf);
        // The reflector runs no ARP: it would bounce the host's ARP request back at it. A static
        // neighbour entry lets the host send to the reflector's MAC straight away.
        host.Ip("neigh", "replace", ReflectorAddress, "lladdr", reflMac, "dev", hostIf, "nud", "permanent");
        o.WriteLine($"1. Lab built (removed again at the end, also on Ctrl-C):");
        o.WriteLine($"     namespace {host.Name,-12} Linux host, {hostIf} {hostMac} {HostAddress}/24");
        o.WriteLine($"     namespace {refl.Name,-12} xdpstack,   {reflIf} {reflMac} (no IP stack: it answers as {ReflectorAddress} by reflection)");
        o.WriteLine($"     {hostIf} <--- veth ---> {reflIf}");
        o.WriteLine();

        var settings = new ReflectSettings(reflIf, Queues: null, CopyMode.Auto, AttachMode.Auto, BusyPoll: false,
            ReflectSettings.DefaultBatch, Cores: null, Duration: null, StatsInterval: TimeSpan.Zero, SwapMode.L3);
        using Reflector reflector = NamespaceThread.Run(refl, () => Reflector.Start(settings));
        session.Started(reflector);
        o.WriteLine("2. Reflector started inside " + refl.Name + ":");
        o.WriteLine("     " + ReflectCommand.Describe(reflector));
        o.WriteLine("     Every frame that arrives leaves again with MACs, IP addresses and UDP/TCP ports swapped.");
        o.WriteLine();

        if (!session.Interrupted)
        {
            o.WriteLine($"3. The host runs 'ping -c {PingCount} {ReflectorAddress}':");
            CommandResult ping = host.Run(TimeSpan.FromSeconds(20), "ping", "-c", PingCount.ToString(CultureInfo.InvariantCulture), "-i", "0.2", "-W", "2", ReflectorAddress);
            Match m = PingSummary().Match(ping.StandardOutput);
            string answered = m.Success ? m.Groups[2].Value : "?";
            o.WriteLine($"     {PingCount} echo requests sent, {answered} answered.");
            o.WriteLine($"     (Each request comes back as a request from {ReflectorAddress} to the host, which replies; the reply");
            o.WriteLine($"      is reflected too and reaches ping as the answer from {ReflectorAddress}.)");
            o.WriteLine();
        }

        if (!session.Interrupted)
        {
            o.WriteLine($"4. The host sends {UdpCount} UDP datagrams of {UdpPayload} bytes from port {UdpBurst.Port} to {ReflectorAddress}:9:");
            int back = NamespaceThread.Run(host, () => UdpBurst.SendAndCount(IPAddress.Parse(HostAddress),
                new IPEndPoint(IPAddress.Parse(ReflectorAddress), 9), UdpCount, UdpPayload, TimeSpan.FromSeconds(2)));
            o.WriteLine($"     {back} of {UdpCount} came back to the sending socket, from {ReflectorAddress}:9 (so addresses, ports");
            o.WriteLine("     and checksums were all right: Linux delivered them).");
            o.WriteLine();
        }

        reflector.Stop();
        o.WriteLine("5. Reflector counters:");
        CounterSnapshot[] totals = reflector.Snapshot();
        for (int i = 0; i < totals.Length; i++)
        {
            CounterSnapshot t = totals[i];
            o.WriteLine($"     queue {reflector.Workers[i].QueueId}: received {t.RxPackets} frames, sent back {t.TxPackets}, dropped {t.Dropped}");
        }
        string hostStats = host.Ip("-s", "-j", "link", "show", "dev", hostIf);
        (long sent, long received) = LinkCounters(hostStats);
        o.WriteLine($"     host side ({hostIf}): {sent} frames sent, {received} frames received");
        o.WriteLine();
        reflector.Dispose();
        lab.Dispose();
        if (session.Interrupted)
            return 130;
        o.WriteLine("6. Done: program detached, namespaces and veth removed.");
        return 0;
    }

    private static string MacOf(NetNamespace ns, string dev)
    {
        string text = ns.Ip("-br", "link", "show", "dev", dev);
        Match m = MacPattern().Match(text);
        return m.Success ? m.Value : throw new ApplianceException($"cannot read the MAC of {dev}: {text.Trim()}");
    }

    private static (long Sent, long Received) LinkCounters(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        System.Text.Json.JsonElement stats = doc.RootElement[0].GetProperty("stats64");
        return (stats.GetProperty("tx").GetProperty("packets").GetInt64(), stats.GetProperty("rx").GetProperty("packets").GetInt64());
    }

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) (packets )?received")]
    private static partial Regex PingSummary();

    [GeneratedRegex("([0-9a-f]{2}:){5}[0-9a-f]{2}")]
    private static partial Regex MacPattern();
}
