using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>
/// RACK's reordering window (RFC 8985 §6.2) as Linux runs it by default: a hole with fewer than three segments SACKed
/// above it is retransmitted once a quarter of the minimum RTT has passed (12.5 ms after a 50 ms handshake), in
/// recovery, rather than at the retransmission timer.
/// </summary>
public class TcpRackTests
{
    private const int Mss = 1460;
    private const uint ClientNext = 1001 + (3 * Mss);

    // An echo connection whose handshake took 50 ms, and the three segments of the echo of 3 × MSS octets.
    private static (TcpFixture F, List<Sent> Echo) ThreeSegmentsOut(bool sack = true, TcpSettings? settings = null)
    {
        var f = new TcpFixture(settings);
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: Mss, windowScale: 7, sackPermitted: sack)));
        f.Advance(TimeSpan.FromMilliseconds(50));
        f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512));
        List<Sent> echo = AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, synAck.Sequence + 1, new byte[3 * Mss], window: 512)));
        Assert.Equal(3, echo.Count);
        return (f, echo);
    }

    private static uint End(Sent s) => s.Sequence + (uint)s.Payload.Length;

    // The client got the segments after the first: its ACK stays at the first, its SACK covers the others given.
    private static List<Sent> SackAbove(TcpFixture f, List<Sent> echo, int from, int to, bool sack = true) =>
        f.Send(Segment(7, TcpFlags.Ack, ClientNext, echo[0].Sequence, window: 512, sack: sack ? Sack((echo[from].Sequence, End(echo[to]))) : default));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    public void HoleWithOneOrTwoSackedAbove_RetransmittedAfterAQuarterOfTheMinimumRtt(int from, int to)
    {
        (TcpFixture f, List<Sent> echo) = ThreeSegmentsOut();
        f.Advance(TimeSpan.FromMilliseconds(50));

        Assert.Empty(SackAbove(f, echo, from, to));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(12)));
        List<Sent> sent = f.Advance(TimeSpan.FromMilliseconds(2));

        Sent again = Assert.Single(sent, s => s.Sequence == echo[0].Sequence);
        Assert.Equal(echo[0].Payload.Length, again.Payload.Length);
        Assert.Equal(1, f[StatCounter.TcpRackReorderTimeouts]);
        Assert.Equal(1, f[StatCounter.TcpFastRetransmits]);
        Assert.Equal(1, f[StatCounter.TcpSackRecoveries]);
        Assert.Equal(0, f[StatCounter.TcpTimeouts]);
        Assert.Equal(0, f[StatCounter.TcpLossProbes]);
    }

    [Fact]
    public void HoleFilledWithinTheWindow_ReorderingNotLoss_NothingSentAgain()
    {
        (TcpFixture f, List<Sent> echo) = ThreeSegmentsOut();
        f.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Empty(SackAbove(f, echo, 1, 1));
        f.Advance(TimeSpan.FromMilliseconds(5));

        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, ClientNext, End(echo[2]), window: 512)));

        Assert.Empty(f.Advance(TimeSpan.FromSeconds(2)));
        Assert.Equal(0, f[StatCounter.TcpRackReorderTimeouts]);
        Assert.Equal(0, f[StatCounter.TcpRetransmits]);
    }

    [Fact]
    public void ThreeSackedAbove_RecoveryAtOnce_WithoutTheWindow()
    {
        // Four segments: the hole and three SACKed above it meet the duplicate-ACK threshold (RFC 6675 IsLost).
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: Mss, windowScale: 7, sackPermitted: true)));
        f.Advance(TimeSpan.FromMilliseconds(50));
        f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512));
        List<Sent> echo = AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, synAck.Sequence + 1, new byte[4 * Mss], window: 512)));
        Assert.Equal(4, echo.Count);

        List<Sent> sent = f.Send(Segment(7, TcpFlags.Ack, 1001 + (4 * Mss), echo[0].Sequence, window: 512,
            sack: Sack((echo[1].Sequence, End(echo[1])), (echo[2].Sequence, End(echo[3])))));

        Assert.Contains(sent, s => s.Sequence == echo[0].Sequence);
        Assert.Equal(0, f[StatCounter.TcpRackReorderTimeouts]);
        Assert.Equal(1, f[StatCounter.TcpFastRetransmits]);
    }

    [Fact]
    public void RackOff_TheHoleWaitsForTheLossProbeOrTimer()
    {
        (TcpFixture f, List<Sent> echo) = ThreeSegmentsOut(settings: new TcpSettings { Rack = false });
        f.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Empty(SackAbove(f, echo, 1, 1));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(30)));
        Assert.Equal(0, f[StatCounter.TcpRackReorderTimeouts]);
        Assert.Equal(0, f[StatCounter.TcpRetransmits]);
    }

    [Fact]
    public void WithoutSack_ADuplicateAckStartsNoWindow()
    {
        (TcpFixture f, List<Sent> echo) = ThreeSegmentsOut(sack: false);
        f.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Empty(SackAbove(f, echo, 1, 1, sack: false));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(30)));
        Assert.Equal(0, f[StatCounter.TcpRetransmits]);
    }
    [Fact]
    public void SpuriousRecovery_TheRetransmissionDsacked_WindowAndThresholdRestored_AndTheReorderingWindowWidens()
    {
        (TcpFixture f, List<Sent> echo) = ThreeSegmentsOut();
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        f.Advance(TimeSpan.FromMilliseconds(50));
        int cwnd = c.CongestionWindow, ssthresh = c.SlowStartThreshold;
        SackAbove(f, echo, 1, 2);
        Assert.Contains(f.Advance(TimeSpan.FromMilliseconds(14)), s => s.Sequence == echo[0].Sequence);
        Assert.True(c.CongestionWindow < cwnd, "recovery cut the window");

        // The original was only late: the client ACKs all three, then reports the retransmission as a duplicate.
        f.Send(Segment(7, TcpFlags.Ack, ClientNext, End(echo[2]), window: 512));
        Assert.Equal(0, f[StatCounter.TcpDsackUndos]);
        f.Send(Segment(7, TcpFlags.Ack, ClientNext, End(echo[2]), window: 512, sack: Sack((echo[0].Sequence, End(echo[0])))));

        Assert.Equal(1, f[StatCounter.TcpDsackUndos]);
        Assert.Equal(cwnd, c.CongestionWindow);
        Assert.Equal(ssthresh, c.SlowStartThreshold);

        // The next hole waits two quarters of the minimum RTT (25 ms) rather than one.
        List<Sent> more = AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, ClientNext, End(echo[2]), new byte[3 * Mss], window: 512)));
        Assert.Equal(3, more.Count);
        f.Advance(TimeSpan.FromMilliseconds(50));
        f.Send(Segment(7, TcpFlags.Ack, ClientNext + (3 * Mss), more[0].Sequence, window: 512, sack: Sack((more[1].Sequence, End(more[1])))));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(20)));
        Assert.Contains(f.Advance(TimeSpan.FromMilliseconds(6)), s => s.Sequence == more[0].Sequence);
        Assert.Equal(2, f[StatCounter.TcpRackReorderTimeouts]);
    }

    [Fact]
    public void RealLoss_TheRetransmissionNotDsacked_NoUndo()
    {
        (TcpFixture f, List<Sent> echo) = ThreeSegmentsOut();
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        int before = c.CongestionWindow;
        f.Advance(TimeSpan.FromMilliseconds(50));
        SackAbove(f, echo, 1, 2);
        f.Advance(TimeSpan.FromMilliseconds(14));

        f.Send(Segment(7, TcpFlags.Ack, ClientNext, End(echo[2]), window: 512));
        f.Advance(TimeSpan.FromMilliseconds(100));

        // The recovery ended with cwnd at the cut ssthresh, and stayed there.
        Assert.Equal(0, f[StatCounter.TcpDsackUndos]);
        Assert.Equal(c.SlowStartThreshold, c.CongestionWindow);
        Assert.True(c.CongestionWindow < before, $"cwnd {c.CongestionWindow} after a real loss, {before} before it");
    }
}
