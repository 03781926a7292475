using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>
/// The tail loss probe (RFC 8985 §7) as Linux sends it by default. The timings are the ones the differential lab
/// (tools/linux-diff, probes/tcp-tlp.txt) showed from Linux 6.18 after a 50 ms handshake with SACK: the last segment
/// again 2 × SRTT + 2 ms after the tail left, then the retransmission timer a full RTO after the probe.
/// </summary>
public class TcpLossProbeTests
{
    private const int Mss = 1460;
    private static readonly TimeSpan HandshakeRtt = TimeSpan.FromMilliseconds(50);

    // An echo connection whose handshake took 50 ms (SRTT 50 ms, RTO 250 ms); the client agrees to SACK unless told not to.
    private static (TcpFixture F, uint Iss) Connected(bool sack = true, TcpSettings? settings = null)
    {
        var f = new TcpFixture(settings);
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: Mss, windowScale: 7, sackPermitted: sack)));
        Assert.Empty(f.Advance(HandshakeRtt));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512)));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(HandshakeRtt, c.SmoothedRtt);
        Assert.Equal(TimeSpan.FromMilliseconds(250), c.RetransmissionTimeout);
        return (f, synAck.Sequence);
    }

    // The client sends `length` octets; returns the echo's segments.
    private static List<Sent> Echoed(TcpFixture f, uint iss, int length) =>
        AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, new byte[length], window: 512)));

    [Fact]
    public void TwoSegmentTail_Unacknowledged_LastSegmentAgainAfterTwoRtts_ThenTheTimerAFullRtoLater()
    {
        (TcpFixture f, uint iss) = Connected();
        List<Sent> tail = Echoed(f, iss, 2 * Mss);
        Assert.Equal(2, tail.Count);

        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(101)));
        Sent probe = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(tail[1].Sequence, probe.Sequence);
        Assert.Equal(tail[1].Payload, probe.Payload);
        Assert.True(probe.Flags.HasFlag(TcpFlags.Psh), "the probe is the pushed tail again");
        Assert.Equal(1, f[StatCounter.TcpLossProbes]);
        Assert.Equal(0, f[StatCounter.TcpTimeouts]);
        Assert.Equal(1, f[StatCounter.TcpRetransmits]);

        // Then the retransmission timer, a whole RTO after the probe (not after the tail), from SND.UNA; then backed off.
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(249)));
        Sent timeout = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(tail[0].Sequence, timeout.Sequence);
        Assert.Equal(1, f[StatCounter.TcpTimeouts]);
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(499)));
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(1, f[StatCounter.TcpLossProbes]);
    }

    [Fact]
    public void OneSegmentTail_ProbeAtTheRtoItself_ThenTheTimerOneRtoLaterUnbackedOff()
    {
        // One segment out: 2 × SRTT plus the minimum RTO for a delayed ACK (300 ms), but never later than the RTO
        // (250 ms): so the first resend comes at the RTO as a probe, and the timer's own resend a whole RTO after it.
        (TcpFixture f, uint iss) = Connected();
        Sent hello = Assert.Single(Echoed(f, iss, 5));

        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(249)));
        Sent probe = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(hello.Sequence, probe.Sequence);
        Assert.Equal((1, 0), (f[StatCounter.TcpLossProbes], f[StatCounter.TcpTimeouts]));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(249)));
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal((1, 1), (f[StatCounter.TcpLossProbes], f[StatCounter.TcpTimeouts]));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(499)));
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public void AfterATimeout_NoProbeUntilWhatWasSentBeforeItIsAcknowledged()
    {
        // Linux's Loss state: once the timer fired, the go-back-N repairs the flight; no probe runs until SND.UNA
        // passes what had been sent before the timeout.
        (TcpFixture f, uint iss) = Connected();
        List<Sent> tail = Echoed(f, iss, 3 * Mss);
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(102)));
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(250)));
        Assert.Equal((1, 1), (f[StatCounter.TcpLossProbes], f[StatCounter.TcpTimeouts]));
        // The first segment's ACK: the go-back-N sends the second and third again; the second's ACK leaves the third
        // outstanding, SND.UNA still below what was sent before the timeout.
        List<Sent> again = f.Send(Segment(7, TcpFlags.Ack, 1001 + (3 * Mss), tail[1].Sequence, window: 512));
        Assert.Equal(tail[1].Sequence, again[0].Sequence);
        f.Send(Segment(7, TcpFlags.Ack, 1001 + (3 * Mss), tail[2].Sequence, window: 512));
        f.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, f[StatCounter.TcpLossProbes]);
        Assert.Equal(2, f[StatCounter.TcpTimeouts]);
    }

    [Fact]
    public void WithoutSack_OnlyTheRetransmissionTimer()
    {
        (TcpFixture f, uint iss) = Connected(sack: false);
        List<Sent> tail = Echoed(f, iss, 2 * Mss);
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(249)));
        Sent timeout = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(tail[0].Sequence, timeout.Sequence);
        Assert.Equal((0, 1), (f[StatCounter.TcpLossProbes], f[StatCounter.TcpTimeouts]));
    }

    [Fact]
    public void TurnedOff_OnlyTheRetransmissionTimer()
    {
        (TcpFixture f, uint iss) = Connected(settings: new TcpSettings { LossProbes = false });
        List<Sent> tail = Echoed(f, iss, 2 * Mss);
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(249)));
        Assert.Equal(tail[0].Sequence, Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1))).Sequence);
        Assert.Equal(0, f[StatCounter.TcpLossProbes]);
    }

    [Fact]
    public void DataWaitingOnTheCongestionWindow_ProbeIsTheNextNewSegment()
    {
        // Twelve segments to echo, the initial window takes ten: the probe sends the eleventh, which the peer's window
        // takes (tcp_snd_wnd_test), whatever the congestion window says; nothing is resent.
        (TcpFixture f, uint iss) = Connected();
        List<Sent> flight = Echoed(f, iss, 12 * Mss);
        Assert.Equal(10, flight.Count);
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(101)));
        Sent probe = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(iss + 1 + (10 * Mss), probe.Sequence);
        Assert.Equal(Mss, probe.Payload.Length);
        Assert.Equal((1, 0), (f[StatCounter.TcpLossProbes], f[StatCounter.TcpRetransmits]));
    }

    [Fact]
    public void ProbeThatRepairedTheTail_CutsTheWindowOnceTheAckPassesIt()
    {
        (TcpFixture f, uint iss) = Connected();
        List<Sent> tail = Echoed(f, iss, 2 * Mss);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(102)));
        int cwnd = c.CongestionWindow;
        // The probe's ACK reaches its end but not past it: no verdict yet (a D-SACK may still follow).
        uint probeEnd = tail[1].Sequence + Mss;
        f.Send(Segment(7, TcpFlags.Ack, 1001 + (2 * Mss), probeEnd, window: 512));
        Assert.Equal(0, f[StatCounter.TcpLossProbeRecoveries]);
        // New data, and its ACK beyond the probe without a D-SACK: the probe repaired a loss.
        Sent more = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001 + (2 * Mss), probeEnd, new byte[100], window: 512)), s => s.Payload.Length > 0);
        f.Send(Segment(7, TcpFlags.Ack, 1001 + (2 * Mss) + 100, more.Sequence + 100, window: 512));
        Assert.Equal(1, f[StatCounter.TcpLossProbeRecoveries]);
        Assert.True(c.CongestionWindow < cwnd, $"cwnd {c.CongestionWindow}, before {cwnd}");
        Assert.InRange(c.CongestionWindow, c.SlowStartThreshold, c.SlowStartThreshold + Mss);
    }

    [Fact]
    public void ProbeReportedAsDuplicate_NoWindowCut()
    {
        (TcpFixture f, uint iss) = Connected();
        List<Sent> tail = Echoed(f, iss, 2 * Mss);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(102)));
        int cwnd = c.CongestionWindow;
        // Both the original and the probe arrived: the ACK carries a D-SACK for the probe's octets (RFC 2883).
        uint probeEnd = tail[1].Sequence + Mss;
        f.Send(Segment(7, TcpFlags.Ack, 1001 + (2 * Mss), probeEnd, window: 512, sack: Sack((tail[1].Sequence, probeEnd))));
        Sent more = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001 + (2 * Mss), probeEnd, new byte[100], window: 512)), s => s.Payload.Length > 0);
        f.Send(Segment(7, TcpFlags.Ack, 1001 + (2 * Mss) + 100, more.Sequence + 100, window: 512));
        Assert.Equal(0, f[StatCounter.TcpLossProbeRecoveries]);
        Assert.True(c.CongestionWindow >= cwnd, $"cwnd {c.CongestionWindow}, before {cwnd}");
    }

    [Fact]
    public void AcksKeepComing_NoProbe()
    {
        // Each ACK of new data moves the probe timeout two round trips on: a flight that keeps being acknowledged
        // never sees one.
        (TcpFixture f, uint iss) = Connected();
        List<Sent> tail = Echoed(f, iss, 4 * Mss);
        Assert.Equal(4, tail.Count);
        for (int i = 1; i < 4; i++)
        {
            Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(90)));
            f.Send(Segment(7, TcpFlags.Ack, 1001 + (4 * Mss), tail[i].Sequence, window: 512));
        }
        Assert.Equal(0, f[StatCounter.TcpLossProbes]);
        // Once they stop, the last segment is probed before any timeout.
        Sent probe = Assert.Single(f.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(tail[3].Sequence, probe.Sequence);
        Assert.Equal((1, 0), (f[StatCounter.TcpLossProbes], f[StatCounter.TcpTimeouts]));
    }
}
