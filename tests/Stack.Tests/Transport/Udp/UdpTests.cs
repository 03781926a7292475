using System.Buffers.Binary;
using System.Text;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.Network.Ipv6;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport.Udp;

public class UdpTests
{
    private static readonly byte[] Hello = Encoding.ASCII.GetBytes("hello, stack");

    [Fact]
    public void Receive_Ipv4DatagramForBoundPort_QueuedWithMetadata()
    {
        var u = new UdpFixture();
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, ep.Bind(Ipv4Address.Any, 5000));
        Assert.Empty(u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 40000, 5000, Hello)));
        byte[] buffer = new byte[100];
        Assert.True(ep.TryReceive(buffer, out UdpDatagramInfo info, out int length));
        Assert.Equal(Hello, buffer[..length]);
        Assert.Equal((IpAddress)Packets.HostIp, info.RemoteAddress);
        Assert.Equal(40000, info.RemotePort);
        Assert.Equal((IpAddress)Packets.StackIp, info.LocalAddress);
        Assert.Equal(5000, info.LocalPort);
        Assert.Equal(StackFixture.Nic1, info.Nic);
        Assert.False(ep.TryReceive(buffer, out _, out _));
    }

    [Fact]
    public void Receive_Ipv6DatagramForBoundPort_Queued()
    {
        var u = new UdpFixture();
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, ep.Bind(Ipv6Address.Any, 5000));
        Assert.Empty(u.F.Exchange(UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, 40000, 5000, Hello)));
        byte[] buffer = new byte[100];
        Assert.True(ep.TryReceive(buffer, out UdpDatagramInfo info, out int length));
        Assert.Equal(Hello, buffer[..length]);
        Assert.Equal((IpAddress)Packets6.HostIp, info.RemoteAddress);
    }

    [Fact]
    public void Receive_ZeroChecksum_AcceptedOverIpv4RejectedOverIpv6()
    {
        var u = new UdpFixture();
        using UdpEndpoint ep4 = u.Udp.CreateEndpoint();
        using UdpEndpoint ep6 = u.Udp.CreateEndpoint();
        ep4.Bind(Ipv4Address.Any, 5000);
        ep6.Bind(Ipv6Address.Any, 5000);
        u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 1, 5000, Hello, zeroChecksum: true));
        u.F.Exchange(UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, 1, 5000, Hello, zeroChecksum: true));
        Assert.Equal(1, ep4.Available);
        Assert.Equal(0, ep6.Available);
        Assert.Equal(1, u.F[StatCounter.UdpChecksumErrors]);
        Assert.Equal(1, u.F[StatCounter.MalformedTransportPackets]);
    }

    [Fact]
    public void Receive_BadChecksum_MalformedNoIcmp()
    {
        var u = new UdpFixture();
        byte[] frame = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 1, 5000, Hello);
        frame[^1] ^= 0x10;
        Assert.Empty(u.F.Exchange(frame));
        Assert.Equal(1, u.F[StatCounter.UdpChecksumErrors]);
    }

    [Fact]
    public void Receive_NoEndpoint_Ipv4PortUnreachable()
    {
        var u = new UdpFixture();
        byte[] frame = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 40000, 5001, Hello);
        byte[] error = Assert.Single(u.F.Exchange(frame));
        Assert.Equal(1, error[23]);
        Assert.Equal(3, error[34]);
        Assert.Equal(3, error[35]);
        Assert.Equal(1, u.F[StatCounter.UdpUnknownPortErrors]);
    }

    [Fact]
    public void Receive_NoEndpoint_Ipv6PortUnreachableRateLimited()
    {
        var u = new UdpFixture();
        byte[] frame = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, 40000, 5001, Hello);
        byte[] error = Assert.Single(u.F.Exchange(frame));
        Assert.Equal(Icmpv6Type.DestinationUnreachable, Ipv6Fixture.TypeOf(error));
        Assert.Equal(4, error[55]);
        Assert.True(Packets6.IcmpChecksumValid(error));
        // One host: six errors, then its own limit (Linux: net.ipv6.icmp.ratelimit, scaled for its /64 route).
        int sent = 1;
        for (int i = 0; i < 59; i++)
            sent += u.F.Exchange(frame).Count;
        Assert.Equal(6, sent);
        Assert.Equal(54, u.F[StatCounter.Icmpv6RateLimitedHost]);
    }

    [Fact]
    public void Receive_DefaultHandlerTakesIt_NoPortUnreachable()
    {
        var u = new UdpFixture();
        int seen = 0;
        u.Udp.DefaultHandler = (Nic nic, in UdpDatagramInfo info, ReadOnlySpan<byte> payload) =>
        {
            seen++;
            return info.LocalPort == 5001;
        };
        Assert.Empty(u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 1, 5001, Hello)));
        Assert.Single(u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 1, 5002, Hello)));
        Assert.Equal(2, seen);
    }

    [Fact]
    public void Receive_ConnectedEndpoint_OnlyFromPeerOthersToUnconnected()
    {
        var u = new UdpFixture();
        using UdpEndpoint listener = u.Udp.CreateEndpoint();
        using UdpEndpoint connected = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, listener.Bind(Ipv4Address.Any, 5000, reusePort: true));
        Assert.Equal(StackError.None, connected.Bind(Ipv4Address.Any, 5000, reusePort: true));
        Assert.Equal(StackError.None, connected.Connect(Packets.HostIp, 7000));
        u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 7000, 5000, Hello));
        u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 7001, 5000, Hello));
        Assert.Equal(1, connected.Available);
        Assert.Equal(1, listener.Available);
    }

    [Fact]
    public void Bind_SamePortTwice_PortInUse()
    {
        var u = new UdpFixture();
        using UdpEndpoint a = u.Udp.CreateEndpoint();
        using UdpEndpoint b = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, a.Bind(Ipv4Address.Any, 5000));
        Assert.Equal(StackError.PortInUse, b.Bind(Ipv4Address.Any, 5000));
        Assert.Equal(StackError.None, b.Bind(Ipv6Address.Any, 5000));
        a.Dispose();
        using UdpEndpoint c = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, c.Bind(Ipv4Address.Any, 5000));
    }

    [Fact]
    public void Send_Ipv6_ResolvesThenSendsValidDatagram()
    {
        var u = new UdpFixture();
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        ep.Bind(Ipv6Address.Any, 5000);
        Assert.Equal(StackError.None, ep.SendTo(Hello, Packets6.HostIp, 9000));
        byte[] ns = Assert.Single(u.F.Link.ReadAll());
        Assert.Equal(Icmpv6Type.NeighborSolicitation, Ipv6Fixture.TypeOf(ns));
        byte[] datagram = Assert.Single(u.F.Exchange(Packets6.Advertisement(Packets6.HostIp, Packets6.StackIp, true, true, Packets.HostMac)));
        Assert.Equal(Packets.HostMac, MacAddress.Read(datagram));
        Assert.Equal(17, datagram[20]);
        Assert.Equal(Packets6.StackIp, Packets6.Source(datagram));
        Assert.Equal(5000, BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(54)));
        Assert.Equal(9000, BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(56)));
        Assert.Equal(0, Packets6.Checksum6(Packets6.Source(datagram), Packets6.Destination(datagram), 17, datagram.AsSpan(54)));
        Assert.Equal(Hello, datagram[62..]);
    }

    [Fact]
    public void Send_Ipv4Connected_SendsValidDatagram()
    {
        var u = new UdpFixture();
        u.F.Nic.Neighbors.AddStatic(Packets.HostIp, Packets.HostMac);
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, ep.Connect(Packets.HostIp, 9000));
        Assert.Equal(2, ep.SendBatch([Hello, Hello]));
        List<byte[]> sent = u.F.Link.ReadAll();
        Assert.Equal(2, sent.Count);
        byte[] d = sent[0];
        Assert.Equal(17, d[23]);
        Assert.Equal(9000, BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(36)));
        byte[] pseudo = [.. d.AsSpan(26, 8), 0, 17, .. d.AsSpan(38, 2), .. d.AsSpan(34)];
        Assert.Equal(0, Wire.ChecksumReference.Compute(pseudo));
        Assert.Equal(Hello, d[42..]);
    }

    [Fact]
    public void IcmpError_AboutOurDatagram_DeliveredToSendingEndpoint()
    {
        var u = new UdpFixture();
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        using UdpEndpoint other = u.Udp.CreateEndpoint();
        ep.Bind(Ipv6Address.Any, 5000);
        other.Bind(Ipv6Address.Any, 5001);
        byte[] ours = UdpFixture.Udp6(Packets6.StackIp, Packets6.HostIp, 5000, 9000, Hello);
        byte[] icmp = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 1, 4, 0, ours.AsSpan(14));
        u.F.Exchange(Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 58, icmp));
        Assert.True(ep.TryTakeError(out UdpDatagramInfo error));
        Assert.Equal(1, error.IcmpType);
        Assert.Equal(4, error.IcmpCode);
        Assert.Equal((IpAddress)Packets6.HostIp, error.RemoteAddress);
        Assert.Equal(9000, error.RemotePort);
        Assert.False(other.TryTakeError(out _));
    }

    [Fact]
    public void IcmpError_Ipv4PortUnreachable_DeliveredToSendingEndpoint()
    {
        var u = new UdpFixture();
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        ep.Bind(Ipv4Address.Any, 5000);
        byte[] ours = UdpFixture.Udp4(Packets.StackIp, Packets.HostIp, 5000, 9000, Hello);
        byte[] icmp = Packets.Icmp(3, 3, [0, 0, 0, 0, .. ours.AsSpan(14)]);
        u.F.Exchange(Packets.Ipv4(Packets.HostIp, Packets.StackIp, 1, icmp));
        Assert.True(ep.TryTakeError(out UdpDatagramInfo error));
        Assert.Equal(3, error.IcmpType);
        Assert.Equal(3, error.IcmpCode);
    }

    [Fact]
    public async Task WaitAsync_DatagramArrivesLater_Completes()
    {
        var u = new UdpFixture();
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        ep.Bind(Ipv4Address.Any, 5000);
        ValueTask wait = ep.WaitAsync();
        Assert.False(wait.IsCompleted);
        u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 1, 5000, Hello));
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, ep.Available);
    }

    [Fact]
    public void Receive_ThousandDatagrams_AfterWarmUp_AllocateNothing()
    {
        var u = new UdpFixture();
        using UdpEndpoint ep = u.Udp.CreateEndpoint(ringCapacity: 2048);
        ep.Bind(Ipv6Address.Any, 5000);
        byte[] frame = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, 40000, 5000, Hello);
        byte[] buffer = new byte[2048];
        long Run(int batches)
        {
            return AllocationWindow.Measure(() =>
            {
                for (int b = 0; b < batches; b++)
                {
                    u.F.Link.InjectInboundRepeated(frame, 100);
                    while (ep.TryReceive(buffer, out _, out _))
                    {
                    }
                }
            });
        }
        Run(2);
        long before = u.F[StatCounter.UdpDatagramsReceived];
        Assert.Equal(0, Run(10));
        Assert.Equal(1000, u.F[StatCounter.UdpDatagramsReceived] - before);
    }
}
