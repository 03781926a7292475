using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// TIME_WAIT as Linux's tcp_timewait_state_process (with RFC 1337 on, which the issue asks for).
public class TcpTimeWaitTests
{
    private const uint ClientNext = 1048; // after the client's 46-octet request (1001 to 1047) and its FIN

    // An HTTP exchange with "Connection: close" ending in our TIME_WAIT; returns the connection and our SND.NXT.
    private static (TcpFixture F, TcpConnection C, uint SndNxt) InTimeWait(bool timestamps = false)
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80)));
        TcpTimestamps? ts = timestamps ? new TcpTimestamps(100, 0) : null;
        Sent synAck = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 1000, 0, mss: 1460, timestamps: ts)));
        uint iss = synAck.Sequence;
        TcpTimestamps? echo = timestamps ? new TcpTimestamps(101, synAck.Header.Timestamps!.Value.Value) : null;
        f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, window: 512, timestamps: echo));
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8, window: 512, timestamps: echo));
        uint finEnd = sent[^1].Sequence + (uint)sent[^1].Payload.Length + 1;
        Assert.Single(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Fin, ClientNext - 1, finEnd, window: 512, timestamps: echo)));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpState.TimeWait, c.State);
        return (f, c, finEnd);
    }

    [Fact]
    public void BareAckAtTheWindowEdge_NoReply_TwoMslStartAgain()
    {
        (TcpFixture f, TcpConnection c, uint sndNxt) = InTimeWait();
        f.Advance(TimeSpan.FromSeconds(50));
        Assert.Empty(f.Send(Segment(80, TcpFlags.Ack, ClientNext, sndNxt, window: 512)));
        f.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(TcpState.TimeWait, c.State);
        f.Advance(TimeSpan.FromSeconds(11));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public void OtherBareSegments_AckedAtMostEvery500Ms_FinAlways()
    {
        (TcpFixture f, _, uint sndNxt) = InTimeWait();
        Sent ack = Assert.Single(f.Send(Segment(80, TcpFlags.Ack, ClientNext + 5000, sndNxt, window: 512)));
        Assert.Equal(ClientNext, ack.Ack);
        Assert.Equal(sndNxt, ack.Sequence);
        Assert.Empty(f.Send(Segment(80, TcpFlags.Ack, ClientNext + 5000, sndNxt, window: 512)));
        // A retransmitted FIN is not part of an ACK loop: always answered.
        Assert.Single(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Fin, ClientNext - 1, sndNxt, window: 512)));
        f.Advance(TimeSpan.FromMilliseconds(501));
        Assert.Single(f.Send(Segment(80, TcpFlags.Ack, ClientNext + 5000, sndNxt, window: 512)));
    }

    [Fact]
    public void NewSyn_OpensTheNextIncarnationWithAnIsnAboveTheOld()
    {
        (TcpFixture f, _, uint sndNxt) = InTimeWait();
        Sent synAck = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 900_000, 0, mss: 1460)));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(sndNxt + 65537, synAck.Sequence);
        // The next connection, not from TIME_WAIT, gets an ISN of its own again.
        Sent other = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 5000, 0, mss: 1460, clientPort: 40001)));
        Assert.NotEqual(sndNxt + 65537, other.Sequence);
    }

    [Fact]
    public void SynWithANewerTimestampButOldSequence_Opens_OlderTimestamp_DoesNot()
    {
        (TcpFixture f, _, _) = InTimeWait(timestamps: true);
        Sent old = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 900_000, 0, mss: 1460, timestamps: new TcpTimestamps(50, 0))));
        Assert.Equal(TcpFlags.Ack, old.Flags);
        Assert.Equal(1, f[StatCounter.TcpPawsDrops]);
        Sent synAck = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 500, 0, mss: 1460, timestamps: new TcpTimestamps(200, 0))));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(501u, synAck.Ack);
    }
}
