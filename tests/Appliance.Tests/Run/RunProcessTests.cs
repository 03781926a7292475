using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>The real <c>xdpstack run</c> process routing between two Linux hosts, driven by a config file.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class RunProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_RouterConfig_RoutesAnswersReportsErrorsAndStopsWithinASecond()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: """
            [[service]]
            kind = "udp-echo"
            port = 7

            [[service]]
            kind = "udp-discard"
            port = 9
            """);
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains("copy mode", router.StandardOutput);
        // [workers] nice by default: the worker runs ahead of the kernel's RX threads, the rest of the process does not.
        Assert.Contains("workers: nice -10", router.StandardOutput);
        Assert.Equal(-10, ThreadNice(router.Id, "xdpstack w0"));
        Assert.Equal(0, NiceInStat(File.ReadAllText($"/proc/{router.Id}/stat")));

        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");
        Ping(lab.HostB, RunLab.HostAIpv6, "ttl=63");
        Ping(lab.HostA, RunLab.RouterBIpv6, "ttl=64");
        // Errors as Linux tools print them: TTL 1 → Time Exceeded from the router; an unrouted destination.
        Assert.Contains("Time to live exceeded", lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", "-t", "1", RunLab.HostBIpv4).StandardOutput);
        Assert.Contains("Time exceeded: Hop limit", lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "1", "-W", "2", "-t", "1", RunLab.HostBIpv6).StandardOutput);
        Assert.Contains("Destination Net Unreachable", lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", "198.19.99.1").StandardOutput);
        Assert.Contains("Destination unreachable: No route", lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "1", "-W", "2", "2001:2:0:99::1").StandardOutput);

        UdpTransfer.Result v4 = UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 10_000);
        Assert.True(v4.Received == 10_000 && v4.Intact == 10_000 && v4.InOrder, v4.ToString());
        UdpTransfer.Result v6 = UdpTransfer.Run(lab.HostB, RunLab.HostBIpv6, lab.HostA, RunLab.HostAIpv6, 10_000);
        Assert.True(v6.Received == 10_000 && v6.Intact == 10_000 && v6.InOrder, v6.ToString());

        // The responder services, for Linux clients on either side and in either family.
        Assert.Equal(200, Echo(lab.HostA, RunLab.HostAIpv4, RunLab.RouterAIpv4, 7, 200));
        Assert.Equal(200, Echo(lab.HostB, RunLab.HostBIpv6, RunLab.RouterBIpv6, 7, 200));
        Assert.Equal(0, Echo(lab.HostA, RunLab.HostAIpv4, RunLab.RouterAIpv4, 9, 20));

        var clock = Stopwatch.StartNew();
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"took {clock.Elapsed.TotalSeconds:F2} s to stop");
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
    }

    [Fact]
    public void Run_SmallerMtuBeyond_FragmentationNeededAndPacketTooBigAsLinuxPrintsThem_StopsUnderLoad()
    {
        // Host B's link has an MTU of 1280: DF packets larger than that get Fragmentation Needed or Packet Too Big,
        // IPv4 packets without DF are fragmented.
        using var lab = new RunLab(mtuB: 1280);
        string config = WriteConfig(lab, extraRoutes: "", services: "");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");

        CommandResult df = lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1400", RunLab.HostBIpv4);
        Assert.Contains("Frag needed and DF set (mtu = 1280)", df.StandardOutput + df.StandardError);
        CommandResult big6 = lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "1", "-W", "2", "-M", "do", "-s", "1300", RunLab.HostBIpv6);
        Assert.Contains("Packet too big: mtu=1280", big6.StandardOutput + big6.StandardError);
        // Without DF the router fragments toward the smaller link, and B's answer comes back whole.
        CommandResult fragmented = lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "2", "-W", "2", "-M", "dont", "-s", "1400", RunLab.HostBIpv4);
        Assert.Contains("2 received", fragmented.StandardOutput);

        // SIGTERM while a transfer runs: it still stops within a second or so, and leaves nothing attached.
        // Exceptions stay in the thread: one escaping would take the whole test host down with it (the lab may be gone
        // when an assertion below failed first).
        Exception? loadError = null;
        var load = new Thread(() =>
        {
            try
            {
                UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 200_000, burst: 64, settle: TimeSpan.FromSeconds(3));
            }
            catch (Exception e)
            {
                loadError = e;
            }
        })
        { IsBackground = true };
        load.Start();
        Thread.Sleep(1000);
        var clock = Stopwatch.StartNew();
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"took {clock.Elapsed.TotalSeconds:F2} s to stop under load");
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
        // Stopped mid-transfer, yet every UMEM frame is in its place.
        Assert.Contains("xdpstack: worker 0 UMEM at stop: ", router.StandardOutput);
        Assert.Contains(": every frame accounted for", router.StandardOutput);
        Assert.DoesNotContain("unaccounted for", router.StandardOutput);
        load.Join();
        // The appliance stopped mid-transfer: losses are expected, a failure to send is not.
        Assert.Null(loadError);
    }

    [Fact]
    public void Run_SighupAddsAndRemovesARoute_WhileOtherTrafficFlows()
    {
        using var lab = new RunLab();
        // 198.19.0.0/16 lies behind host B, which answers for it once the appliance routes it there.
        lab.HostB.Ip("addr", "add", "198.19.0.1/32", "dev", "lo");
        string config = WriteConfig(lab, extraRoutes: "", services: "");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains("Destination Net Unreachable", lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", "198.19.0.1").StandardOutput);

        // Traffic on an unaffected flow keeps going through both reloads.
        UdpTransfer.Result during = default;
        Exception? flowError = null;
        var flow = new Thread(() =>
        {
            try
            {
                during = UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 6_000, burst: 16);
            }
            catch (Exception e)
            {
                flowError = e;
            }
        })
        { IsBackground = true };
        flow.Start();

        WriteConfig(lab, extraRoutes: $"""
            [[route]]
            prefix = "198.19.0.0/16"
            via = "{RunLab.HostBIpv4}"
            """, services: "", path: config);
        router.Signal("HUP");
        router.WaitForOutput("reloaded", TimeSpan.FromSeconds(10));
        Ping(lab.HostA, "198.19.0.1", "ttl=63");

        // A file that no longer parses is reported; the running configuration stays.
        File.WriteAllText(config, "[[interface]\nname = \n");
        router.Signal("HUP");
        router.WaitForError("reload of", TimeSpan.FromSeconds(10));
        Ping(lab.HostA, "198.19.0.1", "ttl=63");

        WriteConfig(lab, extraRoutes: "", services: "", path: config);
        router.Signal("HUP");
        WaitFor(() => lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "1", "198.19.0.1").StandardOutput.Contains("Destination Net Unreachable", StringComparison.Ordinal),
            "the route was not removed");
        flow.Join();
        Assert.Null(flowError);
        // No loss, no duplicate, no reordering. (The flow's first datagrams wait for host B's MAC; the queue is sent by
        // the worker that receives B's answer, before its later datagrams: sent through the control hand-off instead,
        // it reordered this flow in about one run in four.)
        Assert.True(during.Received == 6_000 && during.Intact == 6_000 && during.Duplicates == 0 && during.InOrder, "the unaffected flow: " + during);
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Run_KilledWithSigkill_LeavesNothingAttachedAndRestartsAtOnce()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: "");
        string notify = Path.Combine(Path.GetTempPath(), $"xdpstack-notify-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using var notifySocket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notifySocket.Bind(new UnixDomainSocketEndPoint(notify));
        try
        {
            using (XdpstackProcess first = XdpstackProcess.Start(lab.Dut, "run", "-c", config))
            {
                first.WaitForOutput("xdpstack: ready", StartTimeout);
                Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");
                first.Signal("KILL");
                first.WaitForExit(TimeSpan.FromSeconds(10));
            }
            // BPF links die with their last fd: nothing of the killed process stays on the devices.
            Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "the killed process left an XDP program");

            using XdpstackProcess second = XdpstackProcess.Start(lab.Dut, ["run", "-c", config], new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify });
            second.WaitForOutput("xdpstack: ready", StartTimeout);
            byte[] buffer = new byte[256];
            notifySocket.ReceiveTimeout = 5000;
            int n = notifySocket.Receive(buffer);
            Assert.Equal("READY=1", System.Text.Encoding.UTF8.GetString(buffer, 0, n));
            Ping(lab.HostA, RunLab.HostBIpv6, "ttl=63");
            second.Signal("TERM");
            Assert.Equal(0, second.WaitForExit(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            File.Delete(notify);
        }
    }

    [Fact]
    public void Run_CheckWithBadConfig_ExitsTwoNamingTheLineAndTouchesNothing()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: """
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.9.9"
            """, services: "");
        CommandResult result = XdpstackProcess.Run(lab.Dut, TimeSpan.FromSeconds(30), "run", "-c", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Matches(@":\d+:\d+: .*198\.18\.9\.9", result.StandardError);
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf), "a bad config touched an interface");
    }

    /// <summary>Writes the router config for <paramref name="lab"/> (the lab's interfaces, both families, no pinning).</summary>
    /// <remarks>
    /// The worker is pinned: an unpinned worker that migrates between CPUs hands consecutive frames to the receiving
    /// veth's per-CPU backlogs (a veth without GRO or XDP has no NAPI of its own), and Linux then delivers them out
    /// of order, which would be the lab's reordering, not the appliance's.
    /// </remarks>
    internal static string WriteConfig(RunLab lab, string extraRoutes, string services, string? path = null)
    {
        path ??= Path.Combine(Path.GetTempPath(), $"xdpstack-{lab.Tag}-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, $"""
            # Written by RunProcessTests: host A — xdpstack — host B.
            [workers]
            cores = [{Environment.ProcessorCount - 1}]

            [xdp]
            frames_per_worker = 8192
            fill_ring = 2048
            lpm_huge_pages = false

            [[interface]]
            name = "{lab.DutAIf}"
            addresses = ["{RunLab.RouterAIpv4}/24", "{RunLab.RouterAIpv6}/64"]

            [[interface]]
            name = "{lab.DutBIf}"
            addresses = ["{RunLab.RouterBIpv4}/24", "{RunLab.RouterBIpv6}/64"]

            {extraRoutes}

            {services}
            """);
        return path;
    }

    internal static void Ping(NetNamespace from, string to, string expect)
    {
        CommandResult ping = from.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", to);
        Assert.True(ping.ExitCode == 0 && ping.StandardOutput.Contains("3 received", StringComparison.Ordinal) && ping.StandardOutput.Contains(expect, StringComparison.Ordinal),
            $"ping {to}: {ping.StandardOutput}{ping.StandardError}");
    }

    /// <summary>Sends <paramref name="count"/> datagrams from a connected Linux socket and counts the intact echoes.</summary>
    /// <param name="size">Every datagram's size, or 0 for sizes from 64 to 563 bytes.</param>
    internal static int Echo(NetNamespace ns, string from, string to, int port, int count, int size = 0) => NamespaceThread.Run(ns, () =>
    {
        using var socket = new Socket(IPAddress.Parse(to).AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        socket.Connect(new IPEndPoint(IPAddress.Parse(to), port));
        socket.ReceiveTimeout = 1000;
        byte[] reply = new byte[65536];
        int back = 0;
        for (int i = 0; i < count; i++)
        {
            byte[] datagram = [.. BitConverter.GetBytes(i), .. Enumerable.Range(0, size > 0 ? size - 4 : 60 + i % 500).Select(b => (byte)(b * 7 + i))];
            socket.Send(datagram);
            try
            {
                int n = socket.Receive(reply);
                if (reply.AsSpan(0, n).SequenceEqual(datagram))
                    back++;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                if (port == 9)
                    return back;
            }
        }
        return back;
    });

    private static void WaitFor(Func<bool> condition, string message)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), message);
            Thread.Sleep(200);
        }
    }

    /// <summary>The nice value of the process's thread named <paramref name="name"/> (its main thread for the dll's name).</summary>
    private static int ThreadNice(int pid, string name)
    {
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            string stat = File.ReadAllText(Path.Combine(task, "stat"));
            if (stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')] != name)
                continue;
            return NiceInStat(stat);
        }
        throw new InvalidOperationException($"no thread named '{name}' in process {pid}");
    }

    // After the comm, which may hold spaces: state is field 3 of proc_pid_stat(5), nice field 19.
    private static int NiceInStat(string stat) =>
        int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
}
