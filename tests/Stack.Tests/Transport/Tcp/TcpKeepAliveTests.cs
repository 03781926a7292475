using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

public class TcpKeepAliveTests
{
    private static readonly TcpKeepAlive Short = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), 3);

    private static TcpFixture Echo(TcpKeepAlive? keepAlive)
    {
        var f = new TcpFixture(new TcpSettings { KeepAlive = keepAlive });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        return f;
    }

    [Fact]
    public void Off_ByDefault_NothingSentOnAnIdleConnection()
    {
        TcpFixture f = Echo(null);
        f.Connect(7);
        Assert.Empty(f.Advance(TimeSpan.FromHours(3)));
        Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(0, f[StatCounter.TcpKeepAliveProbes]);
    }

    [Fact]
    public void Idle_ProbeWithSndUnaLessOneAnsweredProbeStartsIdleAgain()
    {
        TcpFixture f = Echo(Short);
        uint iss = f.Connect(7);
        Assert.Empty(f.Advance(TimeSpan.FromSeconds(59)));
        Sent probe = Assert.Single(f.Advance(TimeSpan.FromSeconds(1.5)));
        Assert.Equal(TcpFlags.Ack, probe.Flags);
        Assert.Equal(iss, probe.Sequence);
        Assert.Equal(1001u, probe.Ack);
        Assert.Empty(probe.Payload);
        // Linux answers a probe with an ACK of what it expects; that resets the count and the idle time.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, window: 512)));
        Assert.Empty(f.Advance(TimeSpan.FromSeconds(30)));
        Assert.Single(f.Advance(TimeSpan.FromSeconds(31)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, window: 512)));
        Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(2, f[StatCounter.TcpKeepAliveProbes]);
    }

    [Fact]
    public void Unanswered_CountProbesThenReset()
    {
        TcpFixture f = Echo(Short);
        uint iss = f.Connect(7);
        Assert.Single(f.Advance(TimeSpan.FromSeconds(61)));
        Assert.Single(f.Advance(TimeSpan.FromSeconds(10)));
        Assert.Single(f.Advance(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, f[StatCounter.TcpKeepAliveProbes]);
        Assert.Single(f.Tcp.ConnectionsOf(0));
        // Linux's tcp_keepalive_timer: after the last probe's interval, a RST and the connection gone.
        Sent rst = Assert.Single(f.Advance(TimeSpan.FromSeconds(10)));
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(iss + 1, rst.Sequence);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpAbortOnTimeout]);
    }

    [Fact]
    public void DataOutstanding_NoProbeTheRetransmissionTimerWatches()
    {
        TcpFixture f = Echo(new TcpKeepAlive(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 1));
        uint iss = f.Connect(7);
        Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "x"u8, window: 512))));
        // The echo is never ACKed: what goes out is its retransmission, never a probe.
        foreach (Sent s in f.Advance(TimeSpan.FromSeconds(1.1)))
            Assert.Equal("x"u8.ToArray(), s.Payload);
        Assert.Equal(0, f[StatCounter.TcpKeepAliveProbes]);
    }

    [Fact]
    public void PerService_OverridesTheStackSetting()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7, KeepAlive: Short)));
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Discard, 9)));
        f.Connect(7);
        f.Connect(9, clientPort: ClientPort + 1);
        Sent probe = Assert.Single(f.Advance(TimeSpan.FromSeconds(61)));
        Assert.Equal(7, probe.Header.SourcePort);
    }
}
