using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.Transport.Udp;
using XdpStack.Stack.Transport.Raw;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport.Raw;

public class RawEndpointTests
{
    [Fact]
    public void RawUdp_SeesDatagramBeforeDemux_EvenWhenPortUnreachable()
    {
        var u = new UdpFixture();
        using RawEndpoint raw = u.F.Stack.Raw.Open(IpProtocol.Udp);
        byte[] frame = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, 1, 5001, [1, 2, 3]);
        Assert.Single(u.F.Exchange(frame));
        byte[] buffer = new byte[2048];
        Assert.True(raw.TryReceive(buffer, out UdpDatagramInfo info, out int length));
        Assert.Equal(frame[14..], buffer[..length]);
        Assert.Equal((IpAddress)Packets6.HostIp, info.RemoteAddress);
        Assert.Equal(1, u.F[StatCounter.UdpUnknownPortErrors]);
    }

    [Fact]
    public void RawIcmp_SeesEchoRequestOverIpv4AndStackStillAnswers()
    {
        var f = new StackFixture();
        using RawEndpoint raw = f.Stack.Raw.Open(IpProtocol.Icmp);
        using RawEndpoint other = f.Stack.Raw.Open(IpProtocol.Tcp);
        byte[] ping = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        Assert.Single(f.Exchange(ping));
        byte[] buffer = new byte[2048];
        Assert.True(raw.TryReceive(buffer, out _, out int length));
        // The copy was taken before the reply was written over the frame.
        Assert.Equal(ping[14..], buffer[..length]);
        Assert.False(other.TryReceive(buffer, out _, out _));
    }

    [Fact]
    public void Dispose_StopsDelivery()
    {
        var f = new StackFixture();
        RawEndpoint raw = f.Stack.Raw.Open(IpProtocol.Icmp);
        raw.Dispose();
        f.Exchange(Packets.EchoRequest(Packets.HostIp, Packets.StackIp));
        Assert.False(raw.TryReceive(new byte[2048], out _, out _));
    }
}
