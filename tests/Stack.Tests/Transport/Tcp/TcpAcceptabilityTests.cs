using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// The acceptability test as Linux's tcp_sequence runs it: a segment is taken unless it ends before the left edge the
// peer knows (rcv_wup) or starts past the right edge, so a retransmission that ends exactly at RCV.NXT is processed
// for its ACK and timestamp and then ACKed as a duplicate; and tcp_reset_check's RST at the peer's FIN.
public class TcpAcceptabilityTests
{
    private static TcpFixture Echo()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        return f;
    }

    [Fact]
    public void RetransmissionEndingAtRcvNxt_ItsTimestampIsEchoed_EachCopyAckedAtOnce()
    {
        // tcpdrill's dup-data step: Linux echoed the duplicate's TSval (104) where the appliance echoed the one
        // before (103), because RFC 9293's test refused the duplicate before its timestamp was looked at.
        TcpFixture f = Echo();
        uint iss = f.Connect(7, timestamps: true);
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "hello"u8, window: 512, timestamps: new TcpTimestamps(103, 0)))));
        uint ours = echo.Header.Timestamps!.Value.Value;
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1006, iss + 6, window: 512, timestamps: new TcpTimestamps(103, ours))));

        Sent dup = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 6, "hello"u8, window: 512, timestamps: new TcpTimestamps(104, ours))));
        Assert.Empty(dup.Payload);
        Assert.Equal(1006u, dup.Ack);
        Assert.Equal(104u, dup.Header.Timestamps!.Value.EchoReply);
        // A second copy 10 ms later is ACKed too: data is never subject to the 500 ms limit on ACKs of untaken segments.
        f.Clock.Advance(TimeSpan.FromMilliseconds(10));
        Sent again = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 6, "hello"u8, window: 512, timestamps: new TcpTimestamps(105, ours))));
        Assert.Equal(105u, again.Header.Timestamps!.Value.EchoReply);
        Assert.Equal(5, f[StatCounter.TcpBytesReceived]);
    }

    [Fact]
    public void RetransmissionEndingAtRcvNxt_ItsWindowUpdateIsTaken()
    {
        // The peer's retransmitted segment carries a later window: Linux's tcp_ack runs on it, so a shut window opens.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "ab"u8, window: 512))));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1003, iss + 3, window: 0)));
        Assert.DoesNotContain(f.Send(Segment(7, TcpFlags.Ack, 1003, iss + 3, "cd"u8, window: 0)), s => s.Payload.Length > 0);
        // "cd" again, now with an open window: the duplicate ACK goes, and so does the echo the window held back.
        List<Sent> sent = f.Send(Segment(7, TcpFlags.Ack, 1003, iss + 3, "cd"u8, window: 512));
        Assert.Equal("cd"u8.ToArray(), Assert.Single(sent, s => s.Payload.Length > 0).Payload);
    }

    [Fact]
    public void FinAgainInLastAck_IsAcked()
    {
        // The peer did not hear our ACK of its FIN and sends the FIN again: it ends at RCV.NXT, so it is taken and
        // answered with an ACK at once (the FIN is not counted twice).
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent fin = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Fin, 1001, iss + 1, window: 512)));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Fin, fin.Flags);
        Assert.Equal(TcpState.LastAck, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Sent ack = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Fin, 1001, iss + 1, window: 512)));
        Assert.Equal(1002u, ack.Ack);
        Assert.Equal(TcpState.LastAck, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
    }

    [Fact]
    public void ResetWithTheSequenceOfThePeersFin_EndsALastAckConnection()
    {
        // Linux's tcp_reset_check: after its FIN a peer may reset with the FIN's own sequence number (RCV.NXT - 1).
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Fin, 1001, iss + 1, window: 512)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Rst, 1001, 0)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpResetsReceived]);
    }

    [Fact]
    public void SegmentWhollyBeforeTheLeftEdge_StillRefused()
    {
        // Ending before RCV.NXT (and so before what our last ACK acknowledged): old, answered with a duplicate ACK.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "abcdef"u8, window: 512))));
        Sent dup = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 7, "abc"u8, window: 512)));
        Assert.Empty(dup.Payload);
        Assert.Equal(1007u, dup.Ack);
        Assert.Equal(1, f[StatCounter.TcpOutOfWindow]);
    }

    [Fact]
    public void AckOfDataNeverSent_ItsTimestampIsNotTaken()
    {
        // tcpdrill's ack-unsent step: Linux's tcp_ack refuses the ACK before it replaces TS.Recent, so the challenge
        // ACK and the ACKs after it still echo the timestamp of the last segment that was taken.
        TcpFixture f = Echo();
        uint iss = f.Connect(7, timestamps: true);
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "hi"u8, window: 512, timestamps: new TcpTimestamps(104, 0)))));
        uint ours = echo.Header.Timestamps!.Value.Value;
        Sent challenge = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1003, iss + 100_000, window: 512, timestamps: new TcpTimestamps(108, ours))));
        Assert.Equal(104u, challenge.Header.Timestamps!.Value.EchoReply);
    }
}
