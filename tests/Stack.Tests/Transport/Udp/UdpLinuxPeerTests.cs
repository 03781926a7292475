using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;
using XdpStack.Lab;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.Link;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport.Udp;

/// <summary>UDP of a four-worker stack over a veth (four AF_PACKET sockets in one fanout group) against a Linux peer: reuse-port distribution, and ICMP errors back to the sending endpoint.</summary>
/// <remarks>
/// The Linux sender seeing our Port Unreachable is <see cref="PacketSocketIpv6UdpTests"/>'s
/// <c>LinuxUdpToClosedPort_SenderSeesPortUnreachable</c>; it is not repeated here.
/// </remarks>
[Trait("Category", "Root")]
public sealed class UdpLinuxPeerTests : IDisposable
{
    private const int Workers = 4;

    private readonly ITestOutputHelper _output;
    private readonly NetworkLab _lab = new();
    private readonly NetNamespace _host;
    private readonly PacketSocketEndpoint _link;
    private readonly NetworkStack _stack = new(new StackOptions { Workers = Workers });
    private readonly UdpProtocol _udp;

    public UdpLinuxPeerTests(ITestOutputHelper output)
    {
        _output = output;
        try
        {
            _host = _lab.AddNamespace("host");
            NetNamespace dut = _lab.AddNamespace("dut");
            (string hostDev, string dutDev) = _lab.AddVeth(_host, dut);
            dut.Ip("link", "set", dutDev, "address", Packets.StackMac.ToString());
            // The DUT-side kernel must not answer for the stack: no IPv6 (and no IPv4 address) on its side.
            dut.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dutDev}.disable_ipv6=1");
            // Linux fills in UDP checksums, which a packet socket would otherwise see unfinished.
            _host.Check("ethtool", "-K", hostDev, "tx", "off");
            _host.Ip("addr", "add", "198.18.0.1/24", "dev", hostDev);
            _host.Ip("-6", "addr", "add", "2001:2::1/64", "dev", hostDev, "nodad");

            _link = new PacketSocketEndpoint(dut, dutDev, Packets.StackMac, queues: Workers);
            Assert.Equal(StackError.None, _stack.CreateNic(new NicId(1), _link, "veth"));
            Assert.Equal(StackError.None, _stack.AddAddress(new NicId(1), Packets.StackIp, 24));
            Assert.Equal(StackError.None, _stack.AddAddress(new NicId(1), Packets6.StackIp, 64));
            _stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1));
            _stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2::/64"), Ipv6Address.Any, 1));
            _udp = UdpProtocol.Install(_stack);
            _link.Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private Nic Nic => _stack.Nics[new NicId(1)];

    public void Dispose()
    {
        _link?.Dispose();
        _lab.Dispose();
    }

    /// <summary>
    /// 4,000 Linux sockets, one per source port, each send two datagrams to port 7000, where four
    /// stack endpoints share the port with reuse-port. "Within 10%" (gVisor's
    /// TestBindToDeviceDistribution, behaviour 23) is read as a relative tolerance: each endpoint's
    /// share of the flows, and of the datagrams, lies in 0.25 × (1 ± 0.1) = [0.225, 0.275].
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReusePort_FourEndpoints_LinuxFromManySourcePorts_EvenSplitOnceEachFlowSticky(bool ipv6)
    {
        const int endpoints = 4;
        const int flows = 4000;
        const int perFlow = 2;
        const int firstPort = 20000;
        const int total = flows * perFlow;
        const ushort serverPort = 7000;
        var eps = new UdpEndpoint[endpoints];
        for (int e = 0; e < endpoints; e++)
        {
            eps[e] = _udp.CreateEndpoint(ringCapacity: 8192, maxDatagram: 64);
            Assert.Equal(StackError.None, eps[e].Bind(ipv6 ? Ipv6Address.Any : Ipv4Address.Any, serverPort, reusePort: true));
        }
        try
        {
            WarmUp(ipv6);

            // One drain thread, as an application would run; it records where each datagram landed.
            int[,] seen = new int[flows, perFlow];
            int[] endpointOfFlow = new int[flows];
            Array.Fill(endpointOfFlow, -1);
            int[] datagramsPerEndpoint = new int[endpoints];
            long[] datagramsPerWorker = new long[Workers];
            int received = 0;
            int strays = 0, switched = 0, outOfOrder = 0;
            bool stop = false;
            var drain = new Thread(() =>
            {
                byte[] buffer = new byte[64];
                while (!Volatile.Read(ref stop))
                {
                    bool any = false;
                    for (int e = 0; e < endpoints; e++)
                    {
                        while (eps[e].TryReceive(buffer, out UdpDatagramInfo info, out int length))
                        {
                            any = true;
                            int flow = info.RemotePort - firstPort;
                            int seq = BinaryPrimitives.ReadInt32BigEndian(buffer);
                            if (length != 8 || flow < 0 || flow >= flows || seq < 0 || seq >= perFlow
                                || BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(4)) != info.RemotePort)
                            {
                                strays++;
                                continue;
                            }
                            if (endpointOfFlow[flow] < 0)
                                endpointOfFlow[flow] = e;
                            else if (endpointOfFlow[flow] != e)
                                switched++;
                            // Per-flow order: the second datagram never before the first.
                            if (seq > 0 && seen[flow, seq - 1] == 0)
                                outOfOrder++;
                            seen[flow, seq]++;
                            datagramsPerEndpoint[e]++;
                            datagramsPerWorker[info.Worker]++;
                            Volatile.Write(ref received, received + 1);
                        }
                    }
                    if (!any)
                        Thread.Sleep(1);
                }
            }) { IsBackground = true, Name = "udp drain" };
            drain.Start();

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            var sockets = new Socket[flows];
            try
            {
                using (_host.Enter())
                {
                    for (int f = 0; f < flows; f++)
                    {
                        sockets[f] = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                        sockets[f].Bind(new IPEndPoint(ipv6 ? IPAddress.IPv6Any : IPAddress.Any, firstPort + f));
                    }
                }
                var server = new IPEndPoint(IPAddress.Parse(ipv6 ? "2001:2::2" : "198.18.0.2"), serverPort);
                byte[] payload = new byte[8];
                int sent = 0;
                for (int seq = 0; seq < perFlow; seq++)
                {
                    for (int f = 0; f < flows; f++)
                    {
                        BinaryPrimitives.WriteInt32BigEndian(payload, seq);
                        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), firstPort + f);
                        sockets[f].SendTo(payload, server);
                        sent++;
                        // Keep a bounded number in flight: the test is about the demux, not about
                        // overrunning the veth backlog while 2 vCPUs are shared with the sender.
                        while (sent - Volatile.Read(ref received) > 256 && DateTime.UtcNow < deadline)
                            Thread.Sleep(1);
                    }
                }
            }
            finally
            {
                foreach (Socket? s in sockets)
                    s?.Dispose();
            }
            while (Volatile.Read(ref received) < total && DateTime.UtcNow < deadline)
                Thread.Sleep(10);
            // Anything extra (a duplicate) would arrive right behind the rest.
            Thread.Sleep(200);
            Volatile.Write(ref stop, true);
            drain.Join();

            int[] flowsPerEndpoint = new int[endpoints];
            foreach (int e in endpointOfFlow)
            {
                if (e >= 0)
                    flowsPerEndpoint[e]++;
            }
            _output.WriteLine($"{(ipv6 ? "IPv6" : "IPv4")}: {received} of {total} datagrams from {flows} source ports");
            for (int e = 0; e < endpoints; e++)
                _output.WriteLine($"  endpoint {e}: {flowsPerEndpoint[e]} flows ({flowsPerEndpoint[e] / (double)flows:F4}), {datagramsPerEndpoint[e]} datagrams ({datagramsPerEndpoint[e] / (double)total:F4})");
            _output.WriteLine($"  datagrams per worker: {string.Join(", ", datagramsPerWorker)}");

            Assert.Equal(0, strays);
            Assert.Equal(total, received);
            for (int f = 0; f < flows; f++)
            {
                for (int seq = 0; seq < perFlow; seq++)
                    Assert.True(seen[f, seq] == 1, $"source port {firstPort + f} datagram {seq} received {seen[f, seq]} times");
            }
            Assert.Equal(0, switched);
            Assert.Equal(0, outOfOrder);
            for (int e = 0; e < endpoints; e++)
            {
                Assert.InRange(flowsPerEndpoint[e] / (double)flows, 0.225, 0.275);
                Assert.InRange(datagramsPerEndpoint[e] / (double)total, 0.225, 0.275);
            }
            // The fanout group really spread the flows over the stack's workers.
            Assert.True(datagramsPerWorker.Count(n => n > 0) >= 2, "all datagrams came through one worker");
            Assert.Equal(0, Nic.Stats[StatCounter.UdpReceiveBufferErrors]);
        }
        finally
        {
            foreach (UdpEndpoint ep in eps)
                ep.Dispose();
        }
    }

    /// <summary>A stack endpoint sends to a Linux port nobody listens on; Linux's Port Unreachable comes back to that endpoint, and not to another (the seed's DeliverTransportControlPacket).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StackSendsToClosedLinuxPort_SendingEndpointGetsPortUnreachable(bool ipv6)
    {
        using UdpEndpoint ep = _udp.CreateEndpoint();
        using UdpEndpoint bystander = _udp.CreateEndpoint();
        IpAddress any = ipv6 ? Ipv6Address.Any : Ipv4Address.Any;
        Assert.Equal(StackError.None, ep.Bind(any, 5000));
        Assert.Equal(StackError.None, bystander.Bind(any, 5001));
        IpAddress linux = ipv6 ? Packets6.HostIp : Packets.HostIp;

        UdpDatagramInfo error = default;
        bool got = false;
        // The first datagram waits for neighbour resolution; Linux rate-limits its errors to about
        // one a second per peer, so retry slowly.
        for (int attempt = 0; attempt < 6 && !got; attempt++)
        {
            Assert.Equal(StackError.None, ep.SendTo("nobody listens"u8, linux, 9999));
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
            while (!(got = ep.TryTakeError(out error)) && !cts.IsCancellationRequested)
            {
                try
                {
                    await ep.WaitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        Assert.True(got, "no ICMP error reached the sending endpoint");
        // ICMPv6 Destination Unreachable / port unreachable is 1/4 (RFC 4443 §3.1); ICMPv4 is 3/3 (RFC 792).
        Assert.Equal(ipv6 ? 1 : 3, error.IcmpType);
        Assert.Equal(ipv6 ? 4 : 3, error.IcmpCode);
        Assert.Equal(linux, error.RemoteAddress);
        Assert.Equal(9999, error.RemotePort);
        Assert.Equal(5000, error.LocalPort);
        Assert.InRange(error.Worker, 0, Workers - 1);
        Assert.False(bystander.TryTakeError(out _));
        Assert.False(ep.TryReceive(new byte[64], out _, out _));
        Assert.True(Nic.Stats[StatCounter.UdpIcmpErrorsDelivered] >= 1);
    }

    // Linux and the stack resolve each other before the measured traffic: one echo round trip.
    private void WarmUp(bool ipv6)
    {
        CommandResult ping = default!;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            ping = _host.Run(TimeSpan.FromSeconds(10), "ping", ipv6 ? "-6" : "-4", "-c", "1", "-W", "2", ipv6 ? "2001:2::2" : "198.18.0.2");
            if (ping.ExitCode == 0)
                return;
        }
        Assert.Fail("the stack did not answer ping: " + ping.StandardOutput + ping.StandardError);
    }
}
