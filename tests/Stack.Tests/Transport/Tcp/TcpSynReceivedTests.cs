using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// A passive open's SYN-RECEIVED as Linux's tcp_check_req handles it (checked on the wire against Linux,
// tools/linux-diff/probes/tcp-states.txt), and PSH only where a write's data ends.
public class TcpSynReceivedTests
{
    private static TcpFixture Echo()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        return f;
    }

    [Fact]
    public void RepeatedSyn_SynAckAgain_TimerRestartsFromIt()
    {
        TcpFixture f = Echo();
        Sent first = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(400)));
        Sent again = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Assert.Equal(first.Sequence, again.Sequence);
        // Not at the first SYN-ACK's second, but a second after the repeat.
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(999)));
        Sent timed = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, timed.Flags);
    }

    [Fact]
    public void RepeatedSyns_AnsweredAtMostEvery500Milliseconds()
    {
        TcpFixture f = Echo();
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(500)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
    }

    [Fact]
    public void NewSynInTheWindow_ResetAndTheHalfOpenConnectionGone()
    {
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Sent rst = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1005, 0)));
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(0u, rst.Sequence);
        Assert.Equal(1006u, rst.Ack);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(0, f.Tcp.Listeners[0].HalfOpen(0));
        // The handshake's ACK now finds only the listener, which resets it.
        Sent late = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1)));
        Assert.Equal(TcpFlags.Rst, late.Flags);
    }

    [Fact]
    public void RstInTheWindow_HalfOpenConnectionDroppedQuietly()
    {
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        // Not at RCV.NXT: a synchronized connection would send a challenge ACK, a request does not.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Rst, 1050, 0)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpFlags.Rst, Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1))).Flags);
    }

    [Fact]
    public void SegmentOutsideTheWindow_Acked_HalfOpenConnectionKept()
    {
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Sent ack = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 990, 0)));
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(1001u, ack.Ack);
        // The handshake still completes.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1)));
        Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
    }

    [Fact]
    public void WrongAck_ResetWithItsNumber_HalfOpenConnectionKept()
    {
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Sent rst = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 5)));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(synAck.Sequence + 5, rst.Sequence);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1)));
        Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
    }

    [Fact]
    public void EchoCutIntoSegments_PshOnTheLastOnly()
    {
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 100)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1)));
        List<Sent> echoed = f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, synAck.Sequence + 1, new byte[300]));
        Assert.Equal([TcpFlags.Ack, TcpFlags.Ack, TcpFlags.Ack | TcpFlags.Psh], echoed.Where(s => s.Payload.Length > 0).Select(s => s.Flags));
    }

    [Fact]
    public void LongEchoIntoASmallWindow_PushedEveryHalfWindow()
    {
        // 1,000 octets to echo, the peer's window 502 and no scaling: Linux's forced_push marks the 502 it can send.
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, window: 502)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 502)));
        Sent first = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, synAck.Sequence + 1, new byte[1000], window: 502)), s => s.Payload.Length > 0);
        Assert.Equal(502, first.Payload.Length);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, first.Flags);
    }
}
