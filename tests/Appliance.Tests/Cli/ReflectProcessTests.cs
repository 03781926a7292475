using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using XdpStack.Appliance.Demo;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Cli;

[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class ReflectProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public void Reflect_HostPingsSendsUdpAndTcp_EveryFrameComesBackSwapped()
    {
        using var network = new NetworkLab();
        var lab = new ReflectLab(network);
        using XdpstackProcess reflector = XdpstackProcess.Start(lab.Reflector,
            "reflect", "--interface", lab.ReflectorIf, "--swap", "l3", "--stats-interval", "0.5");
        reflector.WaitForOutput("reflecting on", StartTimeout);
        Assert.True(ReflectLab.HasXdpProgram(lab.Reflector, lab.ReflectorIf));

        using PacketCapture capture = NamespaceThread.Run(lab.Host, () => new PacketCapture());
        int v4Back = NamespaceThread.Run(lab.Host, () => UdpBurst.SendAndCount(IPAddress.Parse(ReflectLab.HostIpv4),
            new IPEndPoint(IPAddress.Parse(ReflectLab.ReflectorIpv4), 9), 300, 64, TimeSpan.FromSeconds(3)));
        int v6Back = NamespaceThread.Run(lab.Host, () => UdpBurst.SendAndCount(IPAddress.Parse(ReflectLab.HostIpv6),
            new IPEndPoint(IPAddress.Parse(ReflectLab.ReflectorIpv6), 9), 100, 200, TimeSpan.FromSeconds(3)));
        CommandResult ping = lab.Host.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", ReflectLab.ReflectorIpv4);
        string v4Echo = NamespaceThread.Run(lab.Host, () => TcpEcho(IPAddress.Parse(ReflectLab.HostIpv4),
            new IPEndPoint(IPAddress.Parse(ReflectLab.ReflectorIpv4), 9), "over IPv4"));
        string v6Echo = NamespaceThread.Run(lab.Host, () => TcpEcho(IPAddress.Parse(ReflectLab.HostIpv6),
            new IPEndPoint(IPAddress.Parse(ReflectLab.ReflectorIpv6), 9), "over IPv6"));
        List<byte[]> frames = capture.Drain(TimeSpan.FromMilliseconds(500));

        // Linux is the oracle: it accepted every reflected datagram on the sending socket, and
        // completed a TCP handshake and delivered data over reflected segments, so addresses,
        // ports and checksums were right for UDP and TCP over both families.
        Assert.Equal(300, v4Back);
        Assert.Equal(100, v6Back);
        Assert.Contains("3 received", ping.StandardOutput);
        Assert.Equal("over IPv4", v4Echo);
        Assert.Equal("over IPv6", v6Echo);

        // On the wire: every frame the host sent came back as its exact reflection, and every
        // frame that came in is addressed to the host's MAC.
        byte[] hostMac = ReflectLab.MacBytes(lab.HostMac);
        List<byte[]> sent = frames.Where(f => f.AsSpan(6, 6).SequenceEqual(hostMac)).ToList();
        List<byte[]> received = frames.Where(f => !f.AsSpan(6, 6).SequenceEqual(hostMac)).ToList();
        Assert.True(sent.Count >= 300 + 100 + 3, $"captured only {sent.Count} outgoing frames");
        Assert.All(received, f => Assert.Equal(hostMac, f[..6]));
        var pending = received.Select(Convert.ToHexString).GroupBy(h => h).ToDictionary(g => g.Key, g => g.Count());
        int missing = 0;
        foreach (byte[] frame in sent)
        {
            string key = Convert.ToHexString(ExpectedReflection(frame));
            if (pending.TryGetValue(key, out int n) && n > 0)
                pending[key] = n - 1;
            else
                missing++;
        }
        Assert.Equal(0, missing);
        int udpV4Back = received.Count(f => IsUdpV4From(f, [198, 18, 0, 2], 9));
        Assert.Equal(300, udpV4Back);

        reflector.Signal("INT");
        Assert.Equal(0, reflector.WaitForExit(ExitTimeout));
        Assert.Contains("stopped after", reflector.StandardOutput);
        Assert.Matches(@"q0 rx \d+ pps tx \d+ pps", reflector.StandardOutput);
        Assert.Matches(@"q0 rx \d+ packets", reflector.StandardOutput);
        Assert.Equal("", reflector.StandardError);
        Assert.False(ReflectLab.HasXdpProgram(lab.Reflector, lab.ReflectorIf));
    }

    [Fact]
    public void Reflect_KilledWithSigkill_LeavesNoXdpProgram()
    {
        using var network = new NetworkLab();
        var lab = new ReflectLab(network);
        using XdpstackProcess reflector = XdpstackProcess.Start(lab.Reflector, "reflect", "-i", lab.ReflectorIf, "--stats-interval", "0");
        reflector.WaitForOutput("reflecting on", StartTimeout);
        Assert.True(ReflectLab.HasXdpProgram(lab.Reflector, lab.ReflectorIf));

        reflector.Signal("KILL");
        reflector.WaitForExit(ExitTimeout);

        // The program hangs on a BPF link owned by the process: the kernel drops it with the last fd.
        bool gone = SpinWait.SpinUntil(() => !ReflectLab.HasXdpProgram(lab.Reflector, lab.ReflectorIf), TimeSpan.FromSeconds(5));
        Assert.True(gone, lab.Reflector.Ip("-d", "link", "show", "dev", lab.ReflectorIf));
    }

    [Fact]
    public void Reflect_ScrapedWhileReflecting_ServesItsFamiliesWithTheFramesItMoved()
    {
        using var network = new NetworkLab();
        var lab = new ReflectLab(network);
        using XdpstackProcess reflector = XdpstackProcess.Start(lab.Reflector, "reflect", "-i", lab.ReflectorIf, "--swap", "l3", "--stats-interval", "0");
        reflector.WaitForOutput("metrics on http://127.0.0.1:9469/metrics", StartTimeout);
        using HttpClient client = Metrics.NamespaceHttp.Client(lab.Reflector, "http://127.0.0.1:9469/");

        int back = NamespaceThread.Run(lab.Host, () => UdpBurst.SendAndCount(IPAddress.Parse(ReflectLab.HostIpv4),
            new IPEndPoint(IPAddress.Parse(ReflectLab.ReflectorIpv4), 9), 500, 64, TimeSpan.FromSeconds(3)));
        string text = Metrics.NamespaceHttp.Get(client, "metrics");
        var scrape = Metrics.Exposition.Parse(text);

        Assert.True(back >= 450, $"{back} of 500 came back");
        Assert.Equal(
            Appliance.Metrics.MetricCatalog.Reflect.Select(f => f.Name).Order(StringComparer.Ordinal),
            scrape.Types.Keys.Where(n => n.StartsWith("xdpstack_", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.True(scrape.Sum("xdpstack_receive_packets_total", "device=" + lab.ReflectorIf) >= back, text);
        Assert.True(scrape.Sum("xdpstack_transmit_packets_total", "device=" + lab.ReflectorIf) >= back, text);
        Assert.True(scrape.Sum("xdpstack_transmit_bytes_total", "device=" + lab.ReflectorIf) >= back * (14 + 20 + 8 + 64), text);
        Assert.Equal(1, scrape.Value("xdpstack_build_info", "command=reflect"));
        Assert.True(scrape.Sum("xdpstack_rx_batch_size_count") >= 1, text);
        Assert.Equal(0, scrape.Sum("xdpstack_drops_total", "reason=tx_ring_full"));
        Metrics.MetricsProcessTests.PromtoolCheck(text);
        reflector.Signal("TERM");
        Assert.Equal(0, reflector.WaitForExit(ExitTimeout));
    }

    [Fact]
    public void Reflect_SecondOnBusyQueue_FailsWithOneClearLine()
    {
        using var network = new NetworkLab();
        var lab = new ReflectLab(network);
        using XdpstackProcess first = XdpstackProcess.Start(lab.Reflector, "reflect", "-i", lab.ReflectorIf, "--queues", "0", "--stats-interval", "0");
        first.WaitForOutput("reflecting on", StartTimeout);

        // Without metrics of its own the second one gets as far as the queue; with the default address it stops before
        // touching anything, on the address the first one serves.
        CommandResult second = XdpstackProcess.Run(lab.Reflector, ExitTimeout, "reflect", "-i", lab.ReflectorIf, "--queues", "0", "--metrics", "");
        CommandResult third = XdpstackProcess.Run(lab.Reflector, ExitTimeout, "reflect", "-i", lab.ReflectorIf, "--queues", "0");

        Assert.NotEqual(0, second.ExitCode);
        AssertOneLine(second.StandardError);
        Assert.Contains("busy", second.StandardError);
        Assert.Equal(1, third.ExitCode);
        AssertOneLine(third.StandardError);
        Assert.Contains("127.0.0.1:9469 (--metrics)", third.StandardError);
        // The first one is unharmed and still stops cleanly.
        Assert.True(ReflectLab.HasXdpProgram(lab.Reflector, lab.ReflectorIf));
        first.Signal("TERM");
        Assert.Equal(0, first.WaitForExit(ExitTimeout));
        Assert.False(ReflectLab.HasXdpProgram(lab.Reflector, lab.ReflectorIf));
    }

    [Fact]
    public void Reflect_WrongInterfaceName_FailsWithOneClearLine()
    {
        CommandResult result = XdpstackProcess.Run(null, ExitTimeout, "reflect", "--interface", "nosuchif0", "--duration", "1");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result.StandardError);
        Assert.Contains("no network interface named 'nosuchif0'", result.StandardError);
    }

    [Fact]
    public void Reflect_WithoutNetRawAndNetAdmin_FailsWithOneClearLine()
    {
        // Root without those two capabilities in its bounding set, so they are gone after exec.
        CommandResult result = Shell.Run("setpriv", ["--bounding-set", "-net_raw,-net_admin", "dotnet", XdpstackProcess.DllPath, "reflect", "-i", "lo"], ExitTimeout);

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result.StandardError);
        Assert.Contains("missing privileges: CAP_NET_ADMIN, CAP_NET_RAW", result.StandardError);
    }

    [Fact]
    public void Reflect_QueueBeyondTheDevice_FailsWithOneClearLine()
    {
        using var network = new NetworkLab();
        var lab = new ReflectLab(network);

        CommandResult result = XdpstackProcess.Run(lab.Reflector, ExitTimeout, "reflect", "-i", lab.ReflectorIf, "--queues", "7");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result.StandardError);
        Assert.Contains("queue 7 does not exist", result.StandardError);
    }

    [Fact]
    public void Reflect_WithDuration_PrintsRatesAndExitsZero()
    {
        using var network = new NetworkLab();
        var lab = new ReflectLab(network);

        CommandResult result = XdpstackProcess.Run(lab.Reflector, TimeSpan.FromSeconds(30),
            "reflect", "-i", lab.ReflectorIf, "--duration", "1.5", "--stats-interval", "0.5", "--cores", "0", "--batch", "32");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.True(result.StandardOutput.Split('\n').Count(l => l.StartsWith("q0 rx ", StringComparison.Ordinal) && l.EndsWith(" pps", StringComparison.Ordinal)) >= 2, result.StandardOutput);
        Assert.Contains("CPUs 0", result.StandardOutput);
        Assert.False(ReflectLab.HasXdpProgram(lab.Reflector, lab.ReflectorIf));
    }

    [Fact]
    public void Info_OnLabVeth_ShowsDeviceAndProbedMode()
    {
        using var network = new NetworkLab();
        var lab = new ReflectLab(network);

        CommandResult result = XdpstackProcess.Run(lab.Reflector, ExitTimeout, "info", "--interface", lab.ReflectorIf);

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains(lab.ReflectorMac, result.StandardOutput);
        Assert.Matches(@"mtu\s+1500", result.StandardOutput);
        Assert.Matches(@"xdp program\s+none", result.StandardOutput);
        Assert.Contains("copy mode", result.StandardOutput);
        Assert.False(ReflectLab.HasXdpProgram(lab.Reflector, lab.ReflectorIf));
    }

    internal static void AssertOneLine(string stderr)
    {
        string trimmed = stderr.TrimEnd('\n');
        Assert.False(string.IsNullOrWhiteSpace(trimmed), "nothing on stderr");
        Assert.DoesNotContain('\n', trimmed);
        Assert.StartsWith("xdpstack: ", trimmed);
        Assert.DoesNotContain("   at ", trimmed);
    }

    /// <summary>
    /// What the reflector must send back for a frame the Linux host sent, spelled out field by
    /// field for the untagged frames a host sends here, independently of <c>FrameReflector</c>:
    /// the MACs trade places, so do the IP addresses, and so do the ports of UDP and TCP; every
    /// other byte, checksums included, stays.
    /// </summary>
    private static byte[] ExpectedReflection(byte[] sent)
    {
        byte[] expected = (byte[])sent.Clone();
        SwapRanges(expected, 0, 6, 6);
        int ip = 14, addresses, addressLength, transport;
        byte protocol;
        switch (BinaryPrimitives.ReadUInt16BigEndian(sent.AsSpan(12)))
        {
            case 0x0806:
                return expected;
            case 0x0800:
                Assert.True((BinaryPrimitives.ReadUInt16BigEndian(sent.AsSpan(ip + 6)) & 0x3FFF) == 0, "the host sent a fragment");
                (addresses, addressLength, transport, protocol) = (ip + 12, 4, ip + (sent[ip] & 0xF) * 4, sent[ip + 9]);
                break;
            case 0x86DD:
                (addresses, addressLength, transport, protocol) = (ip + 8, 16, ip + 40, sent[ip + 6]);
                break;
            default:
                Assert.Fail("the host sent a frame this test does not expect: " + Convert.ToHexString(sent));
                return expected;
        }
        SwapRanges(expected, addresses, addresses + addressLength, addressLength);
        if (protocol is 6 or 17)
            SwapRanges(expected, transport, transport + 2, 2);
        return expected;
    }

    private static void SwapRanges(byte[] frame, int a, int b, int length)
    {
        byte[] first = frame[a..(a + length)];
        Array.Copy(frame, b, frame, a, length);
        first.CopyTo(frame, b);
    }

    /// <summary>
    /// Connects a TCP socket to the reflector and sends a message through it. The reflected SYN
    /// arrives as if the peer had opened at the same moment (a simultaneous open), the reflected
    /// SYN-ACK completes the handshake, and the reflected data arrives as the peer's data; Linux
    /// only gets that far if every segment came back with addresses and ports swapped and a
    /// checksum it verified.
    /// </summary>
    private static string TcpEcho(IPAddress local, IPEndPoint target, string message)
    {
        using var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(local, UdpBurst.Port + 1));
        socket.ReceiveTimeout = 3000;
        Assert.True(socket.ConnectAsync(target).Wait(TimeSpan.FromSeconds(5)), "the TCP handshake through the reflector did not complete");
        byte[] sent = Encoding.ASCII.GetBytes(message);
        socket.Send(sent);
        var received = new byte[sent.Length];
        int n = 0;
        while (n < received.Length)
        {
            int got = socket.Receive(received, n, received.Length - n, SocketFlags.None);
            if (got == 0)
                break;
            n += got;
        }
        return Encoding.ASCII.GetString(received, 0, n);
    }

    private static bool IsUdpV4From(byte[] f, byte[] source, ushort port) =>
        f.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0800 && f[23] == 17
        && f.AsSpan(26, 4).SequenceEqual(source) && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(34)) == port;
}
