using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.Transport.Tcp;
using XdpStack.Stack.Tests.Transport.Udp;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network;

/// <summary>The punt rules of docs/punt.md on the stack alone: what a NIC with an <see cref="IPuntHandler"/> punts, copies, and keeps to itself.</summary>
public sealed class PuntHandlerTests
{
    private sealed class Recorder : IPuntHandler
    {
        public List<byte[]> Frames { get; } = [];

        public void Punt(Nic nic, int worker, ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());
    }

    [Fact]
    public void Tcp_SynToAPortNobodyServes_PuntedInsteadOfReset()
    {
        var tcp = new TcpFixture();
        byte[] syn = TcpFixture.Segment(179, TcpFlags.Syn, 1000, 0);
        // Without a handler the stack resets, as before.
        Assert.Single(tcp.Send(syn));

        var punt = new Recorder();
        tcp.Stack.Nic.SetPuntHandler(punt);
        Assert.Empty(tcp.Send(syn));

        Assert.Equal(syn, Assert.Single(punt.Frames));
    }

    [Fact]
    public void Udp_ServedPortAnswered_UnservedPortPuntedWithoutPortUnreachable()
    {
        var u = new UdpFixture();
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Echo, 7));
        var punt = new Recorder();
        u.F.Nic.SetPuntHandler(punt);

        Assert.Single(u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 5000, 7, "echo"u8)));
        Assert.Empty(punt.Frames);

        byte[] bfd = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 49152, 3784, "bfd"u8);
        Assert.Empty(u.F.Exchange(bfd));
        Assert.Equal(bfd, Assert.Single(punt.Frames));
        byte[] bfd6 = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, 49152, 3784, "bfd"u8);
        Assert.Empty(u.F.Exchange(bfd6));
        Assert.Equal(bfd6, punt.Frames[1]);
    }

    [Fact]
    public void Ipv4_UnknownProtocolPunted_OspfMulticastCopiedOnce_NoProtocolUnreachable()
    {
        var f = new StackFixture();
        var punt = new Recorder();
        f.Nic.SetPuntHandler(punt);

        byte[] ospf = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 89, new byte[24]);
        Assert.Empty(f.Exchange(ospf));
        byte[] hello = Packets.Ipv4(Packets.HostIp, Ipv4Address.Parse("224.0.0.5"), 89, new byte[24], ttl: 1, to: MacAddress.Parse("01:00:5e:00:00:05"));
        Assert.Empty(f.Exchange(hello));

        Assert.Equal([ospf, hello], punt.Frames);
    }

    [Fact]
    public void Icmp_EchoRequestAnsweredOnlyByTheStack_EchoReplyCopied()
    {
        var f = new StackFixture();
        var punt = new Recorder();
        f.Nic.SetPuntHandler(punt);

        Assert.Single(f.Exchange(Packets.EchoRequest(Packets.HostIp, Packets.StackIp)));
        Assert.Empty(punt.Frames);

        byte[] reply = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 1, Packets.Icmp(0, 0, new byte[12]));
        f.Exchange(reply);
        Assert.Equal(reply, Assert.Single(punt.Frames));
    }

    [Fact]
    public void Arp_RequestForOurAddress_CopiedAsReceivedAndAnswered_RequestForAnotherIgnored()
    {
        var f = new StackFixture();
        var punt = new Recorder();
        f.Nic.SetPuntHandler(punt);

        byte[] request = Packets.ArpRequest(Packets.HostIp, Packets.HostMac, Packets.StackIp);
        byte[] original = (byte[])request.Clone();
        Assert.Single(f.Exchange(request));
        f.Exchange(Packets.ArpRequest(Packets.HostIp, Packets.HostMac, Ipv4Address.Parse("198.18.0.77")));

        // The copy is the request, taken before the stack turned the frame into its reply.
        Assert.Equal(original.AsSpan(0, 42).ToArray(), Assert.Single(punt.Frames));
    }

    [Fact]
    public void Ndp_SolicitationCopiedOnceAndAnswered_OspfV3MulticastCopied_ForeignLinkLocalPunted()
    {
        var u = new UdpFixture();
        var punt = new Recorder();
        u.F.Nic.SetPuntHandler(punt);

        byte[] solicitation = Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, Packets.HostMac);
        byte[] copy = (byte[])solicitation.Clone();
        Assert.Single(u.F.Exchange(solicitation));
        Assert.Equal(copy, Assert.Single(punt.Frames));

        byte[] hello = Packets6.Ipv6(Ipv6Address.Parse("fe80::1"), Ipv6Address.Parse("ff02::5"), 89, new byte[24], hopLimit: 1);
        Assert.Empty(u.F.Exchange(hello));
        Assert.Equal(hello, punt.Frames[1]);

        byte[] toTwin = Packets6.Ipv6(Ipv6Address.Parse("fe80::1"), Ipv6Address.Parse("fe80::99"), 89, new byte[24]);
        Assert.Empty(u.F.Exchange(toTwin));
        Assert.Equal(toTwin, punt.Frames[2]);
        Assert.Equal(3, punt.Frames.Count);
    }
}
