using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using XdpStack.Lab;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Wire;
using Xunit.Abstractions;

namespace XdpStack.Stack.Tests.Link;

/// <summary>The stack's TCP as a client (<see cref="TcpProtocol.ConnectAsync"/>, <see cref="TcpSocket"/>) over a veth (AF_PACKET), against Linux's own TCP as server.</summary>
[Trait("Category", "Root")]
public sealed class PacketSocketTcpClientTests : IDisposable
{
    private const ushort ServerPort = 5001;

    private readonly ITestOutputHelper _output;
    private readonly NetworkLab _lab = new();
    private readonly NetNamespace _host;
    private readonly PacketSocketEndpoint _link;
    private readonly NetworkStack _stack = new();
    private readonly TcpProtocol _tcp;

    public PacketSocketTcpClientTests(ITestOutputHelper output)
    {
        _output = output;
        _host = _lab.AddNamespace("host");
        NetNamespace dut = _lab.AddNamespace("dut");
        (string hostDev, string dutDev) = _lab.AddVeth(_host, dut);
        dut.Ip("link", "set", dutDev, "address", Packets.StackMac.ToString());
        dut.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dutDev}.disable_ipv6=1");
        // The packet socket sees what the wire carries: full checksums, and segments no larger than the MTU.
        _host.Check("ethtool", "-K", hostDev, "tx", "off", "tso", "off", "gso", "off");
        _host.Ip("addr", "add", "198.18.0.1/24", "dev", hostDev);
        _host.Ip("-6", "addr", "add", "2001:2::1/64", "dev", hostDev, "nodad");

        _link = new PacketSocketEndpoint(dut, dutDev, Packets.StackMac);
        Assert.Equal(StackError.None, _stack.CreateNic(new NicId(1), _link, "veth"));
        Assert.Equal(StackError.None, _stack.AddAddress(new NicId(1), Packets.StackIp, 24));
        Assert.Equal(StackError.None, _stack.AddAddress(new NicId(1), Packets6.StackIp, 64));
        _stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1));
        _stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2::/64"), Ipv6Address.Any, 1));
        _tcp = TcpProtocol.Install(_stack, new TcpSettings { SynRetries = 2 });
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
    public async Task OurClient_LinuxEchoServer_10MegabytesEachWayIntactAndClosedBothWays(bool ipv6)
    {
        const int total = 10 * 1024 * 1024;
        byte[] data = RandomNumberGenerator.GetBytes(total);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        Socket listener;
        using (_host.Enter())
            listener = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (listener)
        {
            listener.Bind(new IPEndPoint(IPAddress.Parse(ipv6 ? "2001:2::1" : "198.18.0.1"), ServerPort));
            listener.Listen();
            // Linux echoes what it reads, then closes once it read our FIN: its TCP checks ours both ways.
            long serverReceived = 0;
            Task server = Task.Run(async () =>
            {
                using Socket accepted = await listener.AcceptAsync(cts.Token);
                byte[] buffer = new byte[64 * 1024];
                while (true)
                {
                    int n = await accepted.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                    if (n == 0)
                        break;
                    serverReceived += n;
                    await accepted.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, cts.Token);
                }
                accepted.Shutdown(SocketShutdown.Send);
            });

            var stopwatch = Stopwatch.StartNew();
            IpAddress remote = ipv6 ? new IpAddress(Ipv6Address.Parse("2001:2::1")) : new IpAddress(Ipv4Address.Parse("198.18.0.1"));
            TcpSocket socket = await _tcp.ConnectAsync(remote, ServerPort, cancellationToken: cts.Token);
            Assert.InRange(socket.LocalPort, 32768, 60999);
            Task sender = Task.Run(async () =>
            {
                for (int offset = 0; offset < total; offset += 64 * 1024)
                    await socket.WriteAsync(data.AsMemory(offset, Math.Min(64 * 1024, total - offset)), cts.Token);
                await socket.ShutdownAsync(cts.Token);
            });
            byte[] received = new byte[total + 1];
            int got = 0;
            while (true)
            {
                int n = await socket.ReadAsync(received.AsMemory(got, Math.Min(64 * 1024, total - got + 1)), cts.Token);
                if (n == 0)
                    break;
                got += n;
                Assert.True(got <= total, "more came back than was sent");
            }
            await sender.WaitAsync(cts.Token);
            await server.WaitAsync(cts.Token);
            await socket.CloseAsync(cts.Token);
            stopwatch.Stop();
            _output.WriteLine($"server received {serverReceived}, we got {got}, bytes sent {Nic.Stats[StatCounter.TcpBytesSent]} received {Nic.Stats[StatCounter.TcpBytesReceived]}, "
                + $"timeouts {Nic.Stats[StatCounter.TcpTimeouts]}, time-waits {Nic.Stats[StatCounter.TcpTimeWaits]}, resets {Nic.Stats[StatCounter.TcpResetsReceived]}/{Nic.Stats[StatCounter.TcpResetsSent]}, "
                + $"challenge ACKs {Nic.Stats[StatCounter.TcpChallengeAcks]}, out-of-window {Nic.Stats[StatCounter.TcpOutOfWindow]}, {stopwatch.Elapsed.TotalSeconds:F1} s");

            Assert.Equal(total, serverReceived);
            Assert.Equal(total, got);
            int firstDifference = data.AsSpan().CommonPrefixLength(received.AsSpan(0, total));
            Assert.True(firstDifference == total, $"the echoed bytes differ from octet {firstDifference} on");
            Assert.True(socket.Ended);
            Assert.Equal(TcpError.None, socket.Error);
            _output.WriteLine($"{(ipv6 ? "IPv6" : "IPv4")}: 10 MiB each way in {stopwatch.Elapsed.TotalSeconds:F2} s; retransmits {Nic.Stats[StatCounter.TcpRetransmits]}, "
                + $"out-of-order {Nic.Stats[StatCounter.TcpOutOfOrderQueued]}, resets sent {Nic.Stats[StatCounter.TcpResetsSent]} received {Nic.Stats[StatCounter.TcpResetsReceived]}");
        }
        // Closed both ways without a reset from either side: our FIN came after the data, theirs after ours, and we are in TIME_WAIT.
        Assert.Equal(0, Nic.Stats[StatCounter.TcpResetsReceived]);
        Assert.Equal(0, Nic.Stats[StatCounter.TcpResetsSent]);
        Assert.Equal(1, Nic.Stats[StatCounter.TcpActiveOpens]);
        Assert.Equal(1, Nic.Stats[StatCounter.TcpTimeWaits]);
    }

    [Fact]
    public async Task OurClient_ClosedLinuxPort_Refused()
    {
        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TcpSocketException>(() => _tcp.ConnectAsync(new IpAddress(Ipv4Address.Parse("198.18.0.1")), 5999).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(TcpError.ConnectionRefused, error.Error);
        Assert.Equal(1, Nic.Stats[StatCounter.TcpResetsReceived]);
        // Linux answered the first SYN: no retransmission was needed.
        Assert.Equal(0, Nic.Stats[StatCounter.TcpSynAckRetransmits]);
        Assert.Empty(_tcp.ConnectionsOf(0));
        _output.WriteLine($"refused after {stopwatch.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task OurClient_BlackholedPort_TimesOutAfterTheSynRetries()
    {
        // Linux's nftables drops every segment to the port: no SYN-ACK, no RST.
        _host.Check("nft", "add", "table", "inet", "blackhole");
        _host.Check("nft", "add", "chain", "inet", "blackhole", "input", "{ type filter hook input priority 0; }");
        _host.Check("nft", "add", "rule", "inet", "blackhole", "input", "tcp", "dport", "5002", "drop");

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TcpSocketException>(() => _tcp.ConnectAsync(new IpAddress(Ipv4Address.Parse("198.18.0.1")), 5002).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        stopwatch.Stop();

        Assert.Equal(TcpError.TimedOut, error.Error);
        // SynRetries = 2: SYNs at 0, 1 and 3 s, given up at 7 s (RFC 6298's 1 s, doubled each time).
        Assert.Equal(2, Nic.Stats[StatCounter.TcpSynAckRetransmits]);
        Assert.InRange(stopwatch.Elapsed.TotalSeconds, 6.9, 20);
        Assert.Empty(_tcp.ConnectionsOf(0));
        CommandResult counter = _host.Run(TimeSpan.FromSeconds(10), "nft", "list", "table", "inet", "blackhole");
        _output.WriteLine($"timed out after {stopwatch.Elapsed.TotalSeconds:F2} s\n{counter.StandardOutput}");
    }
}
