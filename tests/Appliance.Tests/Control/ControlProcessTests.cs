using System.Diagnostics;
using System.Text.Json;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Tests.Run;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Control;

/// <summary>The real <c>xdpstack run</c> with its control socket, and the real <c>show</c>, <c>stats</c> and <c>capture</c> commands against it.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class ControlProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Show_RouterWithStaticRouteAndNeighbor_ListsThemHumanAndJson_SocketIsRootOnlyAndGoneAfterSigterm()
    {
        using var lab = new RunLab();
        string directory = SocketDirectory(lab);
        string socket = Path.Combine(directory, "control.sock");
        try
        {
            string hostBMac = RunLab.MacOf(lab.HostB, lab.HostBIf);
            using XdpstackProcess router = StartRouter(lab, socket, hostBMac);
            // Traffic both ways, so host A is learned (a dynamic neighbour) and the counters move.
            Ping(lab.HostA, RunLab.HostBIpv4);

            // The socket: a socket file, 0600, in a directory the appliance made 0700, both handed to the user the
            // appliance became after set-up (nobody), so that it can remove them at the stop. A process of another
            // user cannot reach the file; one of the appliance's user can, and the server hangs up on it (SO_PEERCRED).
            Assert.Equal("65534 socket 600", Shell.Check("stat", "-c", "%u %F %a", socket).Trim());
            Assert.Equal("65534 700", Shell.Check("stat", "-c", "%u %a", directory).Trim());
            CommandResult other = Shell.Run("setpriv", "--reuid=65533", "--regid=65533", "--clear-groups", "/usr/bin/python3", "-c",
                "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])", socket);
            Assert.True(other.ExitCode != 0 && other.StandardError.Contains("PermissionError", StringComparison.Ordinal), "another user could connect: " + other.StandardError);
            CommandResult nobody = Shell.Run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                "import socket,sys\ns=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\ntry:\n s.sendall(b'stats\\n'); print(len(s.recv(4096)))\nexcept (BrokenPipeError, ConnectionResetError):\n print(0)", socket);
            Assert.True(nobody.ExitCode == 0 && nobody.StandardOutput.Trim() == "0", $"a process of the appliance's user got an answer: {nobody.StandardOutput}{nobody.StandardError}");

            string interfaces = Show(lab, socket, "interfaces");
            string macA = RunLab.MacOf(lab.Dut, lab.DutAIf);
            Assert.Contains($"1: {lab.DutAIf}: mtu 1500", interfaces);
            Assert.Contains($"2: {lab.DutBIf}: mtu 1500", interfaces);
            Assert.Contains($"link/ether {macA}", interfaces);
            Assert.Contains($"inet {RunLab.RouterAIpv4}/24", interfaces);
            Assert.Contains($"inet6 {RunLab.RouterBIpv6}/64", interfaces);
            Assert.Matches(@"queue 0: worker 0 copy (native|generic) need_wakeup  rx [1-9]\d* packets", interfaces);

            using (JsonDocument json = ShowJson(lab, socket, "interfaces"))
            {
                JsonElement[] list = [.. json.RootElement.GetProperty("interfaces").EnumerateArray()];
                Assert.Equal([lab.DutAIf, lab.DutBIf], list.Select(i => i.GetProperty("name").GetString()));
                Assert.Equal([1, 2], list.Select(i => i.GetProperty("nic").GetInt32()));
                Assert.Equal(macA, list[0].GetProperty("mac").GetString());
                Assert.Contains($"{RunLab.RouterAIpv6}/64", list[0].GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
                JsonElement socket0 = Assert.Single(list[0].GetProperty("sockets").EnumerateArray());
                Assert.Equal("copy", socket0.GetProperty("mode").GetString());
                Assert.True(socket0.GetProperty("rx_packets").GetUInt64() >= 3, socket0.ToString());
                Assert.True(list[1].GetProperty("tx_packets").GetUInt64() >= 3, list[1].ToString());
            }

            string routes = Show(lab, socket, "routes");
            Assert.Contains($"198.18.1.0/24 dev {lab.DutAIf} proto connected metric 0", routes);
            Assert.Contains($"198.19.0.0/16 via {RunLab.HostBIpv4} dev {lab.DutBIf} proto config metric 0", routes);
            Assert.Contains($"2001:2:0:2::/64 dev {lab.DutBIf} proto connected metric 0", routes);
            using (JsonDocument json = ShowJson(lab, socket, "routes"))
            {
                JsonElement route = json.RootElement.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("prefix").GetString() == "198.19.0.0/16");
                Assert.Equal((RunLab.HostBIpv4, lab.DutBIf, "config", "ipv4"),
                    (route.GetProperty("via").GetString(), route.GetProperty("interface").GetString(), route.GetProperty("source").GetString(), route.GetProperty("family").GetString()));
                Assert.Equal(4, json.RootElement.GetProperty("routes").EnumerateArray().Count(r => r.GetProperty("source").GetString() == "connected"));
            }

            string neighbors = Show(lab, socket, "neighbors");
            Assert.Contains($"{RunLab.HostBIpv4} dev {lab.DutBIf} lladdr {hostBMac} PERMANENT", neighbors);
            Assert.Matches($@"{Regex(RunLab.HostAIpv4)} dev {lab.DutAIf} lladdr {RunLab.MacOf(lab.HostA, lab.HostAIf)} (REACHABLE|STALE|DELAY|PROBE)", neighbors);
            using (JsonDocument json = ShowJson(lab, socket, "neighbors"))
            {
                JsonElement b = json.RootElement.GetProperty("neighbors").EnumerateArray().Single(n => n.GetProperty("address").GetString() == RunLab.HostBIpv4);
                Assert.Equal(("static", hostBMac, 2), (b.GetProperty("state").GetString(), b.GetProperty("mac").GetString(), b.GetProperty("nic").GetInt32()));
            }

            string counters = Show(lab, socket, "counters");
            Assert.Matches(@"RxPackets\s+[1-9]", counters);
            Assert.Matches(@"batches\s+[1-9]", counters);
            // Zeros are left out unless asked for.
            Assert.DoesNotContain(Lines(counters), l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\S+\s+0$"));
            Assert.Contains("DisabledRxPackets", Show(lab, socket, "counters", "--all"));
            using (JsonDocument json = ShowJson(lab, socket, "counters"))
            {
                JsonElement nicA = json.RootElement.GetProperty("interfaces")[0];
                Assert.Equal(lab.DutAIf, nicA.GetProperty("interface").GetString());
                // Every StatCounter, zeros included; host A's ARP for the router reached the stack on this NIC.
                Assert.Equal(Enum.GetNames<XdpStack.Stack.StatCounter>().Order(StringComparer.Ordinal), nicA.GetProperty("counters").EnumerateObject().Select(c => c.Name));
                Assert.True(nicA.GetProperty("counters").GetProperty("ArpPacketsReceived").GetInt64() >= 1, nicA.ToString());
                JsonElement worker = Assert.Single(json.RootElement.GetProperty("workers").EnumerateArray());
                Assert.True(worker.GetProperty("counters").GetProperty("batches").GetInt64() > 0);
                Assert.Equal(2, worker.GetProperty("sockets").GetArrayLength());
                Assert.True(worker.GetProperty("sockets")[0].GetProperty("counters").TryGetProperty("xsk_rx_ring_full", out _), "no kernel statistics");
            }

            // The protocol by hand: an unknown request gets an error line, and the same connection then answers.
            using (var raw = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
            {
                raw.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
                using var stream = new System.Net.Sockets.NetworkStream(raw);
                using var reader = new StreamReader(stream);
                stream.Write("show everything\nshow routes\n"u8);
                using (JsonDocument error = JsonDocument.Parse(reader.ReadLine()!))
                    Assert.StartsWith("unknown request 'show everything'", error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
                Assert.StartsWith("{\"routes\":[", reader.ReadLine(), StringComparison.Ordinal);
            }

            // No appliance behind a path: one line that says so, and a non-zero exit.
            CommandResult bad = XdpstackProcess.Run(null, CommandTimeout, "show", "routes", "--socket", socket + ".missing");
            Assert.True(bad.ExitCode != 0 && bad.StandardError.Contains("no control socket at", StringComparison.Ordinal), bad.StandardError);

            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
            Assert.False(File.Exists(socket), "the control socket outlived the appliance");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Stats_UnderTmuxWithTrafficFlowing_ShowsBothDevicesWithNonZeroRates_QuitsOnQ_ReplacesAStaleSocket()
    {
        using var lab = new RunLab();
        string directory = SocketDirectory(lab);
        string socket = Path.Combine(directory, "control.sock");
        // The tmux server's socket lives in the test's directory, so it goes with it.
        string tmux = Path.Combine(directory, "tmux.sock");
        Shell.Check("install", "-d", "-m", "700", directory);
        try
        {
            // What kill -9 leaves behind: a socket file nobody accepts on. The appliance replaces it.
            Shell.Check("python3", "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", socket);
            Assert.Equal("socket", Shell.Check("stat", "-c", "%F", socket).Trim());
            using XdpstackProcess router = StartRouter(lab, socket, RunLab.MacOf(lab.HostB, lab.HostBIf));

            using var stopTraffic = new CancellationTokenSource();
            var traffic = new Thread(() =>
            {
                while (!stopTraffic.IsCancellationRequested)
                    lab.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-q", "-c", "200", "-i", "0.005", "-W", "1", RunLab.HostBIpv4);
            })
            { IsBackground = true };
            traffic.Start();
            try
            {
                string command = $"dotnet {XdpstackProcess.DllPath} stats --socket {socket}; echo EXIT=$?; sleep 60";
                Shell.Check("tmux", "-S", tmux, "new-session", "-d", "-s", "stats", "-x", "100", "-y", "40", command);
                string pane = "";
                string[]? rowA = null, rowB = null;
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(20))
                {
                    Thread.Sleep(500);
                    pane = Shell.Check("tmux", "-S", tmux, "capture-pane", "-p", "-t", "stats");
                    rowA = Row(pane, lab.DutAIf);
                    rowB = Row(pane, lab.DutBIf);
                    if (rowA is not null && rowB is not null && rowA[3] != "0" && rowB[3] != "0" && rowA[5] != "0" && rowB[5] != "0")
                        break;
                }
                // DEVICE QUEUE MODE RXpps RXbit/s TXpps TXbit/s: both devices receive and send (requests one way, replies the other).
                Assert.True(rowA is not null && rowB is not null, "no device rows in the pane:\n" + pane);
                Assert.True(rowA![3] != "0" && rowA[4] != "0" && rowA[5] != "0" && rowB![3] != "0" && rowB[5] != "0", "zero rates with traffic flowing:\n" + pane);
                Assert.StartsWith("copy/", rowA[2], StringComparison.Ordinal);
                Assert.Contains("WORKER QUEUE", pane);
                Assert.Contains("DROPS", pane);

                Shell.Check("tmux", "-S", tmux, "send-keys", "-t", "stats", "q");
                clock.Restart();
                while (!pane.Contains("EXIT=", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(10))
                {
                    Thread.Sleep(200);
                    pane = Shell.Check("tmux", "-S", tmux, "capture-pane", "-p", "-t", "stats");
                }
                // Back on the main screen, the view gone, the cursor shown again.
                Assert.Contains("EXIT=0", pane);
                Assert.Null(Row(pane, lab.DutAIf));
            }
            finally
            {
                Shell.Run("tmux", "-S", tmux, "kill-server");
                stopTraffic.Cancel();
                traffic.Join();
            }

            // Without a terminal, --once prints one block.
            CommandResult once = XdpstackProcess.Run(null, CommandTimeout, "stats", "--once", "--socket", socket);
            Assert.True(once.ExitCode == 0, once.StandardError);
            Assert.NotNull(Row(once.StandardOutput, lab.DutAIf));
            Assert.NotNull(Row(once.StandardOutput, lab.DutBIf));

            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
            // The directory is root's, not the appliance's, so the unprivileged process cannot remove the file from it:
            // what stays is a stale socket that nobody accepts on, which the next start replaces (as at the top).
            using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            var refused = Assert.Throws<System.Net.Sockets.SocketException>(() => probe.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socket)));
            Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Capture_PingThroughTheAppliance_TcpdumpReadsTheEchoRequests_AFilterExcludingThemCapturesNone()
    {
        using var lab = new RunLab();
        string directory = SocketDirectory(lab);
        string socket = Path.Combine(directory, "control.sock");
        string pcap = Path.Combine(Path.GetTempPath(), $"xdpstack-capture-{lab.Tag}-{Guid.NewGuid():N}.pcap");
        string none = Path.ChangeExtension(pcap, ".none.pcap");
        try
        {
            using XdpstackProcess router = StartRouter(lab, socket, RunLab.MacOf(lab.HostB, lab.HostBIf));
            Ping(lab.HostA, RunLab.HostBIpv4);

            // tcpdump on the interface sees none of what XDP redirects: the appliance's capture gives it back. (The
            // filter keeps host A's own chatter out of the five: an MLD report or an ARP probe landed there in CI.)
            using (XdpstackProcess capture = XdpstackProcess.Start(null, "capture", "-i", lab.DutAIf, "--count", "5", "-w", pcap, "--socket", socket, "icmp"))
            {
                capture.WaitForError("xdpstack capture:", CommandTimeout);
                lab.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "8", "-i", "0.2", "-W", "1", RunLab.HostBIpv4);
                Assert.Equal(0, capture.WaitForExit(CommandTimeout));
                Assert.Contains("5 frame(s) captured (count)", capture.StandardError);
            }
            CommandResult read = Shell.Run("tcpdump", "-n", "-r", pcap);
            Assert.True(read.ExitCode == 0, read.StandardError);
            string[] requests = [.. Lines(read.StandardOutput).Where(l => l.Contains($"IP {RunLab.HostAIpv4} > {RunLab.HostBIpv4}: ICMP echo request", StringComparison.Ordinal))];
            Assert.True(requests.Length == 5, "tcpdump -r:\n" + read.StandardOutput);
            Assert.Equal(5, Lines(read.StandardOutput).Length);

            // A filter that excludes them: the same pings, nothing captured, a valid empty file; Ctrl-C ends it.
            using (XdpstackProcess capture = XdpstackProcess.Start(null, "capture", "-i", lab.DutAIf, "-w", none, "--socket", socket, "udp", "and", "port", "7"))
            {
                capture.WaitForError("xdpstack capture:", CommandTimeout);
                Assert.Contains("filter 'udp and port 7'", capture.StandardError);
                Ping(lab.HostA, RunLab.HostBIpv4);
                capture.Signal("INT");
                Assert.Equal(0, capture.WaitForExit(CommandTimeout));
                Assert.Contains("0 frame(s) captured (stopped)", capture.StandardError);
            }
            CommandResult empty = Shell.Run("tcpdump", "-n", "-r", none);
            Assert.True(empty.ExitCode == 0 && Lines(empty.StandardOutput).Length == 0, empty.StandardOutput + empty.StandardError);

            // Transmitted frames of the other interface, printed one per line: the forwarded requests leaving toward B.
            using (XdpstackProcess capture = XdpstackProcess.Start(null, "capture", "-i", lab.DutBIf, "-Q", "out", "--count", "2", "--socket", socket, "icmp", "host", RunLab.HostAIpv4))
            {
                capture.WaitForError("xdpstack capture:", CommandTimeout);
                Ping(lab.HostA, RunLab.HostBIpv4);
                Assert.Equal(0, capture.WaitForExit(CommandTimeout));
                Assert.Equal(2, Lines(capture.StandardOutput).Count(l => l.Contains($"Out IP {RunLab.HostAIpv4} > {RunLab.HostBIpv4}: ICMP echo request", StringComparison.Ordinal)));
            }

            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            File.Delete(pcap);
            File.Delete(none);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Capture_JumboFramesBothWays_OneRecordPerFrameWithAllItsBytes()
    {
        // 9000-MTU links: a full-size ping leaves the appliance as a multi-buffer TX chain (out) and comes back as a
        // chain the worker gathered (in); each is one pcap record of its full length.
        using var lab = new RunLab(mtuA: 9000, mtuB: 9000);
        string directory = SocketDirectory(lab);
        string socket = Path.Combine(directory, "control.sock");
        string pcap = Path.Combine(Path.GetTempPath(), $"xdpstack-capture-{lab.Tag}-{Guid.NewGuid():N}.pcap");
        try
        {
            using XdpstackProcess router = StartRouter(lab, socket, RunLab.MacOf(lab.HostB, lab.HostBIf));
            Assert.Contains("multi-buffer", router.StandardOutput);
            Ping(lab.HostA, RunLab.HostBIpv4);
            using (XdpstackProcess capture = XdpstackProcess.Start(null, "capture", "-i", lab.DutBIf, "-Q", "inout", "--count", "2", "-w", pcap, "--socket", socket, "icmp"))
            {
                capture.WaitForError("xdpstack capture:", CommandTimeout);
                CommandResult ping = lab.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.3", "-W", "2", "-M", "do", "-s", "8972", RunLab.HostBIpv4);
                Assert.Contains("3 received", ping.StandardOutput);
                Assert.Equal(0, capture.WaitForExit(CommandTimeout));
            }
            // -e prints each record's length on the wire; tcpdump marks a record cut short of its headers' lengths.
            CommandResult read = Shell.Run("tcpdump", "-n", "-e", "-r", pcap);
            string[] records = Lines(read.StandardOutput);
            Assert.True(read.ExitCode == 0 && records.Length == 2, "tcpdump -r:\n" + read.StandardOutput + read.StandardError);
            Assert.Contains(records, r => r.Contains("length 9014", StringComparison.Ordinal) && r.Contains($"{RunLab.HostAIpv4} > {RunLab.HostBIpv4}: ICMP echo request", StringComparison.Ordinal));
            Assert.Contains(records, r => r.Contains("length 9014", StringComparison.Ordinal) && r.Contains($"{RunLab.HostBIpv4} > {RunLab.HostAIpv4}: ICMP echo reply", StringComparison.Ordinal));
            Assert.DoesNotContain(records, r => r.Contains("[|", StringComparison.Ordinal));
            // The whole frame is in the file, not only its first buffer.
            Assert.True(new FileInfo(pcap).Length >= 24 + 2 * (16 + 9014), $"{new FileInfo(pcap).Length} bytes");

            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            File.Delete(pcap);
            Directory.Delete(directory, recursive: true);
        }
    }

    private static XdpstackProcess StartRouter(RunLab lab, string socket, string hostBMac)
    {
        string config = Path.Combine(Path.GetTempPath(), $"xdpstack-{lab.Tag}-{Guid.NewGuid():N}.toml");
        File.WriteAllText(config, $"""
            # Written by ControlProcessTests: host A — xdpstack — host B, a static route and a static neighbour.
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

            [[route]]
            prefix = "198.19.0.0/16"
            via = "{RunLab.HostBIpv4}"

            [[neighbor]]
            interface = "{lab.DutBIf}"
            address = "{RunLab.HostBIpv4}"
            mac = "{hostBMac}"
            """);
        XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config, "--socket", socket);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains($"xdpstack: control socket {socket}", router.StandardOutput);
        return router;
    }

    /// <summary>A directory of the test's own for the socket, absent until the appliance (or the test) creates it.</summary>
    private static string SocketDirectory(RunLab lab) => Path.Combine(Path.GetTempPath(), $"xdpstack-ctl-{lab.Tag}-{Guid.NewGuid():N}"[..40]);

    private static string Show(RunLab lab, string socket, params string[] what)
    {
        CommandResult result = XdpstackProcess.Run(null, CommandTimeout, ["show", .. what, "--socket", socket]);
        Assert.True(result.ExitCode == 0, $"show {string.Join(' ', what)} ({lab.Tag}): {result.StandardError}");
        return result.StandardOutput;
    }

    private static JsonDocument ShowJson(RunLab lab, string socket, string what)
    {
        string output = Show(lab, socket, what, "--json");
        Assert.Single(Lines(output));
        return JsonDocument.Parse(output);
    }

    /// <summary>The words of the first queue-0 row of <paramref name="device"/> in the stats view, or null.</summary>
    private static string[]? Row(string screen, string device) =>
        Lines(screen).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).FirstOrDefault(w => w.Length == 7 && w[0] == device && w[1] == "0");

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);

    private static void Ping(NetNamespace from, string to)
    {
        CommandResult ping = from.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", to);
        Assert.True(ping.ExitCode == 0 && ping.StandardOutput.Contains("3 received", StringComparison.Ordinal), $"ping {to}: {ping.StandardOutput}{ping.StandardError}");
    }
}
