using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using XdpStack.Lab;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using Xunit.Abstractions;

namespace XdpStack.Stack.Tests.Link;

/// <summary>The stack's TCP over a veth (AF_PACKET) against Linux's own TCP as client: echo of 10 MB both ways, RST to a closed port, HTTP from curl, keep-alive probes Linux answers.</summary>
[Trait("Category", "Root")]
public sealed class PacketSocketTcpTests : IDisposable
{
    private const string HostIp4 = "198.18.0.1";

    private readonly ITestOutputHelper _output;
    private readonly NetworkLab _lab = new();
    private readonly NetNamespace _host;
    private readonly PacketSocketEndpoint _link;
    private readonly NetworkStack _stack = new();
    private readonly TcpProtocol _tcp;

    public PacketSocketTcpTests(ITestOutputHelper output)
    {
        _output = output;
        _host = _lab.AddNamespace("host");
        NetNamespace dut = _lab.AddNamespace("dut");
        (string hostDev, string dutDev) = _lab.AddVeth(_host, dut);
        dut.Ip("link", "set", dutDev, "address", Packets.StackMac.ToString());
        dut.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dutDev}.disable_ipv6=1");
        // The packet socket sees what the wire carries: full checksums, and segments no larger than the MTU.
        _host.Check("ethtool", "-K", hostDev, "tx", "off", "tso", "off", "gso", "off");
        _host.Ip("addr", "add", $"{HostIp4}/24", "dev", hostDev);
        _host.Ip("-6", "addr", "add", "2001:2::1/64", "dev", hostDev, "nodad");

        _link = new PacketSocketEndpoint(dut, dutDev, Packets.StackMac);
        Assert.Equal(StackError.None, _stack.CreateNic(new NicId(1), _link, "veth"));
        Assert.Equal(StackError.None, _stack.AddAddress(new NicId(1), Packets.StackIp, 24));
        Assert.Equal(StackError.None, _stack.AddAddress(new NicId(1), Packets6.StackIp, 64));
        _stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1));
        _stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2::/64"), Ipv6Address.Any, 1));
        _tcp = TcpProtocol.Install(_stack);
        Assert.Equal(StackError.None, _tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Assert.Equal(StackError.None, _tcp.AddService(new TcpService(TcpServiceKind.Http, 80, null, new HttpResponse(200, 13, ["Content-Type: text/plain"]))));
        _link.Idle = _stack.PollTimers;
        _link.Start();
    }

    private Nic Nic => _stack.Nics[new NicId(1)];

    public void Dispose()
    {
        _link.Dispose();
        _lab.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LinuxClient_Echo10MegabytesBack_Intact(bool ipv6)
    {
        const int total = 10 * 1024 * 1024;
        byte[] data = RandomNumberGenerator.GetBytes(total);
        Socket client;
        using (_host.Enter())
            client = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await client.ConnectAsync(new IPEndPoint(IPAddress.Parse(ipv6 ? "2001:2::2" : "198.18.0.2"), 7), cts.Token);
            Task sender = Task.Run(async () =>
            {
                for (int offset = 0; offset < total; offset += 64 * 1024)
                    await client.SendAsync(data.AsMemory(offset, Math.Min(64 * 1024, total - offset)), SocketFlags.None, cts.Token);
                client.Shutdown(SocketShutdown.Send);
            });
            byte[] received = new byte[total + 1];
            int got = 0;
            while (true)
            {
                int n = await client.ReceiveAsync(received.AsMemory(got, Math.Min(64 * 1024, total - got + 1)), SocketFlags.None, cts.Token);
                if (n == 0)
                    break;
                got += n;
                Assert.True(got <= total, "more came back than was sent");
            }
            await sender;
            Assert.Equal(total, got);
            int firstDifference = data.AsSpan().CommonPrefixLength(received.AsSpan(0, total));
            Assert.True(firstDifference == total, $"the echoed bytes differ from octet {firstDifference} on");
        }
        _output.WriteLine($"retransmits {Nic.Stats[StatCounter.TcpRetransmits]}, out-of-order {Nic.Stats[StatCounter.TcpOutOfOrderQueued]}, segments in {Nic.Stats[StatCounter.TcpSegmentsReceived]} out {Nic.Stats[StatCounter.TcpSegmentsSent]}");
        Assert.True(Nic.Stats[StatCounter.TcpBytesReceived] >= total);
        Assert.True(Nic.Stats[StatCounter.TcpBytesSent] >= total);
        // The connection closes both ways: our FIN followed theirs, and Linux ACKed it (LAST_ACK ends).
        // (The table belongs to the receive thread; a read that races its change is simply retried.)
        WaitFor(() =>
        {
            try
            {
                return _tcp.ConnectionsOf(0).Count == 0;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }, "the connection did not close");
    }

    [Fact]
    public async Task LinuxConnect_ClosedPort_ConnectionRefused()
    {
        Socket client;
        using (_host.Enter())
            client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            var e = await Assert.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(new IPEndPoint(IPAddress.Parse("198.18.0.2"), 81)));
            Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
        }
        Assert.True(Nic.Stats[StatCounter.TcpResetsSent] >= 1);
    }

    [Fact]
    public void Curl_KeepAliveAndClose_FixedResponse()
    {
        // Two URLs on one command line: curl reuses the connection.
        CommandResult keepAlive = _host.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "-v", "--max-time", "10", "http://198.18.0.2/a", "http://198.18.0.2/b");
        Assert.True(keepAlive.ExitCode == 0, keepAlive.StandardError);
        Assert.Equal(new string('x', 26), keepAlive.StandardOutput);
        Assert.Contains("Re-using existing connection", keepAlive.StandardError);
        CommandResult close = _host.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "-i", "--max-time", "10", "-H", "Connection: close", "http://198.18.0.2/");
        Assert.True(close.ExitCode == 0, close.StandardError);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", close.StandardOutput);
        Assert.Contains("Connection: close\r\n", close.StandardOutput);
        Assert.EndsWith("\r\n\r\nxxxxxxxxxxxxx", close.StandardOutput);
        CommandResult v6 = _host.Run(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "10", "http://[2001:2::2]/");
        Assert.True(v6.ExitCode == 0, v6.StandardError);
        Assert.Equal(3 + 1, Nic.Stats[StatCounter.HttpRequests]);
    }

    [Fact]
    public async Task KeepAlive_LinuxAnswersProbes_AndASilencedPeerIsDropped()
    {
        Assert.Equal(StackError.None, _tcp.AddService(new TcpService(TcpServiceKind.Echo, 17, KeepAlive: new TcpKeepAlive(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 2))));
        Socket client;
        using (_host.Enter())
            client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.ConnectAsync(new IPEndPoint(IPAddress.Parse("198.18.0.2"), 17), cts.Token);
            // Idle for longer than idle + count × interval: Linux's ACKs to the probes keep the connection.
            await Task.Delay(TimeSpan.FromSeconds(4.5), cts.Token);
            Assert.True(Nic.Stats[StatCounter.TcpKeepAliveProbes] >= 3, $"{Nic.Stats[StatCounter.TcpKeepAliveProbes]} probes");
            Assert.Equal(0, Nic.Stats[StatCounter.TcpAbortOnTimeout]);
            await client.SendAsync("ping"u8.ToArray(), SocketFlags.None, cts.Token);
            byte[] back = new byte[4];
            int got = 0;
            while (got < 4)
                got += await client.ReceiveAsync(back.AsMemory(got), SocketFlags.None, cts.Token);
            Assert.Equal("ping"u8.ToArray(), back);

            // Now the peer goes silent: its namespace drops everything from us, and after two unanswered probes we reset.
            _host.Check("nft", "add", "table", "inet", "silence");
            _host.Check("nft", "add", "chain", "inet", "silence", "input", "{ type filter hook input priority 0; }");
            _host.Check("nft", "add", "rule", "inet", "silence", "input", "ip", "saddr", "198.18.0.2", "drop");
            WaitFor(() => Nic.Stats[StatCounter.TcpAbortOnTimeout] == 1, "the silent peer's connection was not dropped");
        }
        _output.WriteLine($"keep-alive probes {Nic.Stats[StatCounter.TcpKeepAliveProbes]}, aborted {Nic.Stats[StatCounter.TcpAbortOnTimeout]}");
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            Thread.Sleep(50);
        }
    }
}
