using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>
/// A retransmission timeout that the peer's echoed timestamps show was spurious (the originals arrived, their ACKs were
/// late) is undone as Linux's tcp_try_undo_loss does (RFC 3522): cwnd and ssthresh go back and the go-back-N stops.
/// </summary>
public class TcpLossUndoTests
{
    private const int Mss = 1460;
    private const int SegmentData = Mss - 12; // what a segment carries beside the timestamps option
    private const uint ClientNext = 1001 + (3 * SegmentData);

    // An echo connection with timestamps (no SACK, so no tail loss probe comes first) and a 50 ms handshake, three
    // segments of echo out, and the retransmission timeout that sent the first of them again.
    private static (TcpFixture F, List<Sent> Echo, Sent Again) TimedOut()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: Mss, windowScale: 7,
            timestamps: new TcpTimestamps(100, 0))));
        uint synAckTsval = synAck.Header.Timestamps!.Value.Value;
        f.Advance(TimeSpan.FromMilliseconds(50));
        f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512, timestamps: new TcpTimestamps(150, synAckTsval)));
        List<Sent> echo = AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, synAck.Sequence + 1, new byte[3 * SegmentData],
            window: 512, timestamps: new TcpTimestamps(151, synAckTsval))));
        Assert.Equal(3, echo.Count);
        List<Sent> again = new();
        for (int i = 0; i < 30 && again.Count == 0; i++)
            again = f.Advance(TimeSpan.FromMilliseconds(50)).Where(s => s.Payload.Length > 0).ToList();
        Assert.Equal(echo[0].Sequence, Assert.Single(again).Sequence);
        Assert.Equal(1, f[StatCounter.TcpTimeouts]);
        return (f, echo, again[0]);
    }

    private static List<Sent> AckFirstEchoing(TcpFixture f, List<Sent> echo, uint tsEcho) =>
        f.Send(Segment(7, TcpFlags.Ack, ClientNext, echo[1].Sequence, window: 512, timestamps: new TcpTimestamps(900, tsEcho)));

    [Fact]
    public void LateAckOfTheOriginal_TimeoutUndone_RestNotSentAgain()
    {
        (TcpFixture f, List<Sent> echo, Sent again) = TimedOut();
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(SegmentData, c.CongestionWindow); // one segment after the timeout
        uint originalTsval = echo[0].Header.Timestamps!.Value.Value;
        Assert.True((int)(again.Header.Timestamps!.Value.Value - originalTsval) > 0);

        // The first segment's ACK echoes the original's TSval: it was the ACK that was late, not the data lost.
        List<Sent> sent = AckFirstEchoing(f, echo, originalTsval);

        Assert.Equal(1, f[StatCounter.TcpLossUndos]);
        Assert.Equal(10 * SegmentData, c.CongestionWindow); // the initial window again
        Assert.DoesNotContain(sent, s => s.Payload.Length > 0);
        Assert.Equal(1, f[StatCounter.TcpRetransmits]);
    }

    [Fact]
    public void AckOfTheRetransmission_RealLoss_GoBackNGoesOn()
    {
        (TcpFixture f, List<Sent> echo, Sent again) = TimedOut();
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));

        // The ACK echoes the retransmission's TSval: the original was lost, and the rest goes again (slow start from 1).
        List<Sent> sent = AckFirstEchoing(f, echo, again.Header.Timestamps!.Value.Value);

        Assert.Equal(0, f[StatCounter.TcpLossUndos]);
        Assert.Equal(new[] { echo[1].Sequence, echo[2].Sequence }, sent.Where(s => s.Payload.Length > 0).Select(s => s.Sequence));
        Assert.True(c.CongestionWindow <= 2 * SegmentData, $"cwnd {c.CongestionWindow}");
    }
}
