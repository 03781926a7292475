using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Tests.Metrics;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>The real <c>xdpstack run</c> answering Linux TCP clients with its TCP services: curl, ab and wrk against HTTP, 10 MB through TCP echo, RST for a closed port, a service added by SIGHUP, curl served through an hping3 SYN flood, and 100 MB through TCP echo under 1% loss and 32 MiB under reordering.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed partial class RunTcpServiceTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private const string Services = """
        [[service]]
        kind = "http"
        port = 80
        status = 200
        body_bytes = 13
        headers = ["Content-Type: text/plain"]

        [[service]]
        kind = "http"
        port = 81
        keepalive_timeout = 1

        [[service]]
        kind = "tcp-echo"
        port = 7

        [[service]]
        kind = "tcp-discard"
        port = 9
        """;

    [Fact]
    public void Run_HttpService_CurlAbH2loadAndWrkWithoutErrors()
    {
        using var lab = new RunLab();
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: "", services: Services);
        using XdpstackProcess run = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        run.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains("service http on * port 80 (status 200, 13-byte body, 1 header(s))", run.StandardOutput);

        string url = $"http://{RunLab.RouterAIpv4}/";
        CommandResult keepAlive = lab.HostA.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "-v", "--max-time", "10", url, url);
        Assert.True(keepAlive.ExitCode == 0, keepAlive.StandardError);
        Assert.Equal(new string('x', 26), keepAlive.StandardOutput);
        Assert.Contains("Re-using existing connection", keepAlive.StandardError);
        CommandResult close = lab.HostA.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "-i", "--max-time", "10", "-H", "Connection: close", url);
        Assert.True(close.ExitCode == 0, close.StandardError);
        Assert.Contains("Connection: close\r\n", close.StandardOutput);
        Assert.Matches(@"\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n", close.StandardOutput);
        Assert.EndsWith("\r\n\r\nxxxxxxxxxxxxx", close.StandardOutput);
        CommandResult v6 = lab.HostB.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "10", $"http://[{RunLab.RouterBIpv6}]/");
        Assert.True(v6.ExitCode == 0 && v6.StandardOutput == new string('x', 13), v6.StandardError);

        // A 3 MB chunked upload (curl's own chunks, after its Expect: 100-continue), then a GET on the same connection.
        string upload = Path.Combine(Path.GetTempPath(), $"xdpstack-upload-{lab.Tag}.bin");
        File.WriteAllBytes(upload, RandomNumberGenerator.GetBytes(3_000_000));
        try
        {
            CommandResult chunked = lab.HostA.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "-v", "--max-time", "10", "-H", "Transfer-Encoding: chunked",
                "--data-binary", "@" + upload, url, "--next", "--max-time", "10", url);
            Assert.True(chunked.ExitCode == 0, chunked.StandardError);
            Assert.Equal(new string('x', 26), chunked.StandardOutput);
            Assert.Contains("Transfer-Encoding: chunked", chunked.StandardError);
            Assert.Contains("Re-using existing connection", chunked.StandardError);
        }
        finally
        {
            File.Delete(upload);
        }

        // A 3 MB upload with Connection: close: the answer goes at the head, the close only once the body is read
        // (closing while it still arrives would reset the connection under curl).
        File.WriteAllBytes(upload, RandomNumberGenerator.GetBytes(3_000_000));
        try
        {
            CommandResult closing = lab.HostA.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "10", "-H", "Connection: close", "-H", "Expect:",
                "--data-binary", "@" + upload, url);
            Assert.True(closing.ExitCode == 0, closing.StandardError);
            Assert.Equal(new string('x', 13), closing.StandardOutput);
        }
        finally
        {
            File.Delete(upload);
        }

        // keepalive_timeout = 1 on port 81: after its answer an idle connection gets our FIN about a second later.
        CommandResult idle = lab.HostA.Run(TimeSpan.FromSeconds(30), "python3", "-c", $$"""
            import socket, time
            s = socket.create_connection(("{{RunLab.RouterAIpv4}}", 81), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while not got.endswith(b"\r\n\r\n"):
                got += s.recv(4096)
            t = time.monotonic()
            rest = s.recv(4096)
            print(len(rest), round(time.monotonic() - t, 2))
            """);
        Assert.True(idle.ExitCode == 0, idle.StandardError);
        string[] fields = idle.StandardOutput.Trim().Split(' ');
        Assert.Equal("0", fields[0]);
        Assert.InRange(double.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture), 0.8, 3.0);
        // Every close so far was orderly: none reset for data left unread or arriving after it; the idle close counted.
        using (HttpClient metricsClient = NamespaceHttp.Client(lab.Dut, "http://127.0.0.1:9469/"))
        {
            Exposition metrics = Exposition.Parse(NamespaceHttp.Get(metricsClient, "metrics"));
            Assert.Equal(0, metrics.Sum("xdpstack_tcp_segments_total", "type=abort_on_close"));
            Assert.Equal(0, metrics.Sum("xdpstack_tcp_segments_total", "type=abort_on_data"));
            Assert.Equal(1, metrics.Sum("xdpstack_http_requests_total", "type=timed_out"));
        }

        // ab without -k: HTTP/1.0, a new connection per request, closed by us after the response.
        CommandResult ab = lab.HostA.Run(TimeSpan.FromSeconds(120), "ab", "-n", "2000", "-c", "8", "-s", "10", url);
        Assert.True(ab.ExitCode == 0, ab.StandardOutput + ab.StandardError);
        Assert.Matches(@"Complete requests:\s+2000", ab.StandardOutput);
        Assert.Matches(@"Failed requests:\s+0", ab.StandardOutput);
        Assert.DoesNotMatch(@"Non-2xx responses", ab.StandardOutput);
        CommandResult abKeepAlive = lab.HostA.Run(TimeSpan.FromSeconds(120), "ab", "-k", "-n", "2000", "-c", "8", "-s", "10", url);
        Assert.True(abKeepAlive.ExitCode == 0, abKeepAlive.StandardOutput + abKeepAlive.StandardError);
        Assert.Matches(@"Complete requests:\s+2000", abKeepAlive.StandardOutput);
        Assert.Matches(@"Failed requests:\s+0", abKeepAlive.StandardOutput);
        Assert.Matches(@"Keep-Alive requests:\s+2000", abKeepAlive.StandardOutput);

        // h2load in HTTP/1.1 mode: keep-alive, then 4 requests pipelined per connection, answered in order.
        foreach (string depth in new[] { "1", "4" })
        {
            CommandResult h2load = lab.HostA.Run(TimeSpan.FromSeconds(120), "h2load", "--h1", "-n", "2000", "-c", "8", "-m", depth, "-T", "10", url);
            Assert.True(h2load.ExitCode == 0, h2load.StandardOutput + h2load.StandardError);
            Assert.Contains("requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout", h2load.StandardOutput);
            Assert.Contains("status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx", h2load.StandardOutput);
        }

        // wrk: keep-alive, pipelining off; every response must be a 2xx and no socket error may occur.
        CommandResult wrk = lab.HostA.Run(TimeSpan.FromSeconds(60), "wrk", "-t", "1", "-c", "16", "-d", "3s", "--timeout", "5s", url);
        Assert.True(wrk.ExitCode == 0, wrk.StandardOutput + wrk.StandardError);
        Assert.DoesNotContain("Socket errors", wrk.StandardOutput);
        Assert.DoesNotContain("Non-2xx", wrk.StandardOutput);
        Match requests = RequestsLine().Match(wrk.StandardOutput);
        Assert.True(requests.Success && long.Parse(requests.Groups[1].Value) > 100, wrk.StandardOutput);

        run.Signal("TERM");
        Assert.Equal(0, run.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Run_TcpEcho10Megabytes_ClosedPortRefused_SighupAddsService()
    {
        using var lab = new RunLab();
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: "", services: Services);
        using XdpstackProcess run = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        run.WaitForOutput("xdpstack: ready", StartTimeout);

        Assert.Equal(SocketError.Success, Echo(lab.HostA, RunLab.RouterAIpv4, 7, 10 * 1024 * 1024));
        Assert.Equal(SocketError.Success, Echo(lab.HostB, RunLab.RouterBIpv6, 7, 1024 * 1024));
        Assert.Equal(SocketError.ConnectionRefused, Echo(lab.HostA, RunLab.RouterAIpv4, 8, 1));

        // SIGHUP adds an echo on port 8, and removes the discard service on 9.
        RunProcessTests.WriteConfig(lab, extraRoutes: "", services: Services.Replace("port = 9", "port = 8", StringComparison.Ordinal).Replace("tcp-discard", "tcp-echo", StringComparison.Ordinal), path: config);
        run.Signal("HUP");
        run.WaitForOutput("reloaded", TimeSpan.FromSeconds(10));
        Assert.Equal(SocketError.Success, Echo(lab.HostA, RunLab.RouterAIpv4, 8, 100_000));
        Assert.Equal(SocketError.ConnectionRefused, Echo(lab.HostA, RunLab.RouterAIpv4, 9, 1));

        run.Signal("TERM");
        Assert.Equal(0, run.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Run_SynFlood_CookiesKeepCurlServedAndOpenNothingForTheFlood()
    {
        using var lab = new RunLab();
        // A small backlog, so the flood overflows it at once and everything after it is answered with cookies.
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: "", services: Services.Replace("headers = [\"Content-Type: text/plain\"]", "headers = [\"Content-Type: text/plain\"]\nbacklog = 64", StringComparison.Ordinal));
        using XdpstackProcess run = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        run.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains("backlog 64", run.StandardOutput);
        using HttpClient client = NamespaceHttp.Client(lab.Dut, "http://127.0.0.1:9469/");
        string url = $"http://{RunLab.RouterAIpv4}/";
        CommandResult first = lab.HostA.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "10", url);
        Assert.True(first.ExitCode == 0, first.StandardError);

        // SYNs from an unused address of host A's subnet (the SYN-ACKs reach host A's link and die there, unanswered,
        // so the half-open connections stay), a new source port each, as fast as hping3 goes, for 5 seconds, on the CPU
        // the appliance's worker does not use.
        CommandResult flood = default;
        var flooder = new Thread(() => flood = lab.HostA.Run(TimeSpan.FromSeconds(30), "taskset", "-c", "0", "timeout", "-s", "INT", "5",
            "hping3", "--flood", "-S", "-p", "80", "-a", FloodSource, RunLab.RouterAIpv4));
        flooder.Start();
        Thread.Sleep(500);
        int served = 0, tries = 0;
        var failures = new List<string>();
        while (flooder.IsAlive)
        {
            tries++;
            CommandResult curl = lab.HostA.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "10", url);
            if (curl.ExitCode == 0 && curl.StandardOutput == new string('x', 13))
                served++;
            else
                failures.Add(curl.StandardError);
            Thread.Sleep(100);
        }
        flooder.Join();
        Assert.True(flood.StandardOutput.Contains("packets transmitted", StringComparison.Ordinal) || flood.StandardError.Contains("packets transmitted", StringComparison.Ordinal),
            flood.StandardOutput + flood.StandardError);

        Exposition metrics = Exposition.Parse(NamespaceHttp.Get(client, "metrics"));
        double sent = metrics.Sum("xdpstack_tcp_segments_total", "type=syn_cookie_sent");
        double validated = metrics.Sum("xdpstack_tcp_segments_total", "type=syn_cookie_validated");
        double failed = metrics.Sum("xdpstack_tcp_segments_total", "type=syn_cookie_failed");
        double established = metrics.Sum("xdpstack_tcp_segments_total", "type=established");
        string summary = $"{flood.StandardOutput}{flood.StandardError} curl {served}/{tries}; cookies sent {sent}, validated {validated}, failed {failed}; established {established}";
        Console.WriteLine(summary);
        Assert.True(failures.Count == 0, string.Join("\n", failures) + summary);
        Assert.True(served >= 3, summary);
        Assert.True(sent > 1000, summary);
        // Every connection that was opened is one of curl's: the flood's SYNs opened nothing, with or without a cookie.
        Assert.True(validated >= 1 && validated <= tries, summary);
        Assert.True(established <= tries + 1, summary);
        Assert.Equal(0, failed);

        CommandResult after = lab.HostA.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "10", url);
        Assert.True(after.ExitCode == 0, after.StandardError);
        run.Signal("TERM");
        Assert.Equal(0, run.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Run_TcpEchoUnderOnePercentLossBothWays_100MegabytesIntactInBoundedTime()
    {
        using var lab = new RunLab();
        // The client sits one hop behind host A, which forwards and drops 1% of TCP packets each way at random (this
        // kernel has no netem). Dropping in the client's own namespace would not do: a drop at its output is reported
        // back to its TCP, which sends the segment again at once, so nothing is lost on the wire that way.
        using var behind = new NetworkLab();
        NetNamespace client = behind.AddNamespace("client");
        (string clientIf, string hostAIf) = behind.AddVeth(client, lab.HostA);
        client.Check("ethtool", "-K", clientIf, "tso", "off", "gso", "off");
        client.Ip("addr", "add", $"{ClientIpv4}/24", "dev", clientIf);
        client.Ip("route", "add", "default", "via", ClientGatewayIpv4);
        lab.HostA.Ip("addr", "add", $"{ClientGatewayIpv4}/24", "dev", hostAIf);
        lab.HostA.Check("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        lab.HostA.Check("nft", "add", "table", "inet", "loss");
        lab.HostA.Check("nft", "add", "chain", "inet", "loss", "forward", "{ type filter hook forward priority 0; }");
        foreach (string from in new[] { clientIf, lab.HostAIf })
        {
            string device = from == clientIf ? hostAIf : lab.HostAIf;
            lab.HostA.Check("nft", "add", "rule", "inet", "loss", "forward", "iifname", device, "meta", "l4proto", "tcp", "numgen", "random", "mod", "100", "lt", "1", "counter", "drop");
        }
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: $"""
            [[route]]
            prefix = "{ClientPrefixIpv4}"
            via = "{RunLab.HostAIpv4}"
            """, services: Services);
        using XdpstackProcess run = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        run.WaitForOutput("xdpstack: ready", StartTimeout);
        using HttpClient metricsClient = NamespaceHttp.Client(lab.Dut, "http://127.0.0.1:9469/");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(SocketError.Success, Echo(client, RunLab.RouterAIpv4, 7, 100 * 1024 * 1024));
        TimeSpan took = clock.Elapsed;
        string dropped = lab.HostA.Check("nft", "list", "table", "inet", "loss");
        long[] drops = [.. DroppedCounts().Matches(dropped).Select(m => long.Parse(m.Groups[1].Value))];
        Exposition metrics = Exposition.Parse(NamespaceHttp.Get(metricsClient, "metrics"));
        double Tcp(string type) => metrics.Sum("xdpstack_tcp_segments_total", $"type={type}");
        string summary = $"100 MiB each way in {took.TotalSeconds:F1} s; dropped toward us {drops.ElementAtOrDefault(0)}, toward the client {drops.ElementAtOrDefault(1)}; "
            + $"stack: segments in {Tcp("received")}, out {Tcp("sent")}, retransmitted {Tcp("retransmitted")}, SACK recoveries {Tcp("sack_recovery")}, "
            + $"SACK retransmissions {Tcp("sack_retransmitted")}, loss probes {Tcp("loss_probe")}, timeouts {Tcp("timeout")}, out-of-order queued {Tcp("out_of_order_queued")}";
        Console.WriteLine(summary);
        Assert.True(took < TimeSpan.FromSeconds(60), summary);
        // The loss was real both ways, and SACK repaired what we lost.
        Assert.True(drops.Length == 2 && drops.All(d => d > 100), summary);
        Assert.True(Tcp("out_of_order_queued") > 0 && Tcp("sack_retransmitted") > 0, summary);
        run.Signal("TERM");
        Assert.Equal(0, run.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Run_TcpEchoUnderReorderingBothWays_32MegabytesIntact_SpuriousRecoveriesFewAndUndone()
    {
        using var lab = new RunLab();
        // The client reaches host A (which forwards to the appliance) through a relay namespace that sends 2% of the
        // TCP frames each way behind the next one or two of their direction: reordering, with nothing lost.
        using var behind = new NetworkLab();
        NetNamespace client = behind.AddNamespace("client");
        NetNamespace relayNs = behind.AddNamespace("relay");
        relayNs.Check("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        (string clientIf, string relayClientIf) = behind.AddVeth(client, relayNs);
        (string relayHostIf, string hostAIf) = behind.AddVeth(relayNs, lab.HostA);
        // The relay copies frames as they are: they must carry their checksums, and no segment may exceed the MTU.
        client.Check("ethtool", "-K", clientIf, "tx", "off", "tso", "off", "gso", "off");
        lab.HostA.Check("ethtool", "-K", hostAIf, "tx", "off", "tso", "off", "gso", "off");
        client.Ip("addr", "add", $"{ClientIpv4}/24", "dev", clientIf);
        client.Ip("route", "add", "default", "via", ClientGatewayIpv4);
        lab.HostA.Ip("addr", "add", $"{ClientGatewayIpv4}/24", "dev", hostAIf);
        lab.HostA.Check("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: $"""
            [[route]]
            prefix = "{ClientPrefixIpv4}"
            via = "{RunLab.HostAIpv4}"
            """, services: Services);
        using XdpstackProcess run = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        run.WaitForOutput("xdpstack: ready", StartTimeout);
        using HttpClient metricsClient = NamespaceHttp.Client(lab.Dut, "http://127.0.0.1:9469/");
        Exposition before = Exposition.Parse(NamespaceHttp.Get(metricsClient, "metrics"));

        ReorderRelay.RelayCounts relayed;
        TimeSpan took;
        using (ReorderRelay relay = ReorderRelay.Start(relayNs, relayClientIf, relayHostIf, percent: 2, seed: 13))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(SocketError.Success, Echo(client, RunLab.RouterAIpv4, 7, 32 * 1024 * 1024));
            took = clock.Elapsed;
            relayed = relay.Stop();
        }
        Exposition after = Exposition.Parse(NamespaceHttp.Get(metricsClient, "metrics"));
        double Tcp(string type) => after.Sum("xdpstack_tcp_segments_total", $"type={type}") - before.Sum("xdpstack_tcp_segments_total", $"type={type}");
        string summary = $"32 MiB each way in {took.TotalSeconds:F1} s; relay: {relayed}; "
            + $"stack: segments in {Tcp("received")}, out {Tcp("sent")}, retransmitted {Tcp("retransmitted")}, fast retransmits {Tcp("fast_retransmit")}, "
            + $"SACK recoveries {Tcp("sack_recovery")}, RACK reorder timeouts {Tcp("rack_reorder_timeout")}, D-SACK undos {Tcp("dsack_undo")}, "
            + $"timeouts {Tcp("timeout")}, out-of-order queued {Tcp("out_of_order_queued")}";
        Console.WriteLine(summary);
        Assert.True(took < TimeSpan.FromSeconds(60), summary);
        // The reordering was real both ways, and the stack saw it in the client's data.
        Assert.True(relayed.ReorderedAToB > 100 && relayed.ReorderedBToA > 100, summary);
        Assert.True(Tcp("out_of_order_queued") > 0, summary);
        // A segment overtaken by one or two others never has three SACKed above it, so no recovery starts by the
        // duplicate-ACK threshold (RFC 6675). RACK's reordering window (RFC 8985), a quarter of a veth's minimum RTT, can
        // run out first, as Linux's does; then the original's arrival D-SACKs the retransmission and the recovery is
        // undone, and each D-SACK widens the window. So: only RACK's recoveries, few of them (on the lab machine 9 to 22
        // for about 470 frames reordered toward the client), each undone (the last D-SACK may still be on its way).
        // (A retransmission timeout is left out: a relay descheduled on a busy machine could cause one.)
        double recoveries = Tcp("sack_recovery");
        Assert.True(Tcp("fast_retransmit") == Tcp("rack_reorder_timeout") && recoveries == Tcp("rack_reorder_timeout"), summary);
        Assert.True(recoveries <= relayed.ReorderedBToA / 10.0 && recoveries <= relayed.ReorderedAToB / 10.0, summary);
        Assert.True(Tcp("dsack_undo") >= recoveries - 1, summary);
        run.Signal("TERM");
        Assert.Equal(0, run.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    private const string ClientIpv4 = "198.18.3.2", ClientGatewayIpv4 = "198.18.3.1", ClientPrefixIpv4 = "198.18.3.0/24";

    [GeneratedRegex(@"counter packets (\d+) bytes \d+ drop")]
    private static partial Regex DroppedCounts();

    // An address of host A's subnet that no namespace has.
    private const string FloodSource = "198.18.1.77";

    // Sends random bytes through a Linux TCP connection and checks that they come back whole; the socket error of the connect otherwise.
    private static SocketError Echo(NetNamespace ns, string to, int port, int total) => NamespaceThread.Run(ns, () =>
    {
        byte[] data = RandomNumberGenerator.GetBytes(total);
        using var socket = new Socket(IPAddress.Parse(to).AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // Long enough for a run of backed-off retransmission timeouts under loss.
        socket.ReceiveTimeout = 20_000;
        socket.SendTimeout = 20_000;
        try
        {
            socket.Connect(new IPEndPoint(IPAddress.Parse(to), port));
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
        var sender = new Thread(() =>
        {
            for (int offset = 0; offset < total; offset += 65536)
                socket.Send(data, offset, Math.Min(65536, total - offset), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
        });
        sender.Start();
        byte[] received = new byte[total + 1];
        int got = 0;
        int n;
        while ((n = socket.Receive(received, got, Math.Min(65536, received.Length - got), SocketFlags.None)) > 0)
            got += n;
        sender.Join();
        Assert.Equal(total, got);
        Assert.True(data.AsSpan().SequenceEqual(received.AsSpan(0, total)), "the echoed bytes differ");
        return SocketError.Success;
    });

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsLine();
}
