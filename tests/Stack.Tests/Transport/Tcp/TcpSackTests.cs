using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

public class TcpSackTests
{
    private static TcpFixture Service(TcpServiceKind kind, TcpCongestionControl congestionControl = TcpCongestionControl.Cubic)
    {
        var f = new TcpFixture(new TcpSettings { CongestionControl = congestionControl });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(kind, kind == TcpServiceKind.Echo ? (ushort)7 : (ushort)9)));
        return f;
    }

    [Fact]
    public void Receiver_OutOfOrderRangesGoOutAsSackBlocksNewestFirst()
    {
        TcpFixture f = Service(TcpServiceKind.Discard);
        uint iss = f.Connect(9);
        Sent a = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 2001, iss + 1, new byte[100], window: 512)));
        Assert.Equal(1001u, a.Ack);
        Assert.Equal(Sack((2001, 2101)), a.Header.SackBlocks);
        Sent b = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 3001, iss + 1, new byte[100], window: 512)));
        Assert.Equal(Sack((3001, 3101), (2001, 2101)), b.Header.SackBlocks);
        // The older range grows: it is listed first now (RFC 2018 §4: the block of the segment that triggered the ACK).
        Sent c = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 2101, iss + 1, new byte[100], window: 512)));
        Assert.Equal(Sack((2001, 2201), (3001, 3101)), c.Header.SackBlocks);
        // The hole fills up to the first range: one block remains.
        Sent d = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 1001, iss + 1, new byte[1000], window: 512)));
        Assert.Equal(2201u, d.Ack);
        Assert.Equal(Sack((3001, 3101)), d.Header.SackBlocks);
        Sent e = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 2201, iss + 1, new byte[800], window: 512)));
        Assert.Equal(3101u, e.Ack);
        Assert.Equal(0, e.Header.SackBlocks.Count);
    }

    [Fact]
    public void Receiver_WithTimestampsThreeBlocksWithoutFour()
    {
        foreach (bool timestamps in new[] { true, false })
        {
            TcpFixture f = Service(TcpServiceKind.Discard);
            uint iss = f.Connect(9, timestamps: timestamps);
            Sent last = default;
            for (int i = 0; i < 4; i++)
            {
                last = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 2001 + (uint)(i * 1000), iss + 1, new byte[100], window: 512,
                    timestamps: timestamps ? new TcpTimestamps(200, 0) : null)));
            }
            Assert.Equal(timestamps ? 3 : 4, last.Header.SackBlocks.Count);
            Assert.Equal(5001u, last.Header.SackBlocks.Left(0));
            Assert.True(last.Header.HeaderLength <= 60);
        }
    }

    [Fact]
    public void Receiver_NoSackPermitted_NoBlocks()
    {
        TcpFixture f = Service(TcpServiceKind.Discard);
        Sent synAck = Assert.Single(f.Send(Segment(9, TcpFlags.Syn, 1000, 0, mss: 1460)));
        f.Send(Segment(9, TcpFlags.Ack, 1001, synAck.Sequence + 1));
        Sent a = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 2001, synAck.Sequence + 1, new byte[100])));
        Assert.Equal(0, a.Header.SackBlocks.Count);
    }

    // Ten segments S0..S9 of 1460 echoed; S1 and S3 lost on the way to the client, which SACKs the rest.
    private static (TcpFixture F, uint[] Starts) TenSegmentsInFlight(TcpCongestionControl congestionControl = TcpCongestionControl.Cubic)
    {
        TcpFixture f = Service(TcpServiceKind.Echo, congestionControl);
        uint iss = f.Connect(7);
        var sent = AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[7300], window: 512)));
        sent.AddRange(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 8301, iss + 1, new byte[7300], window: 512))));
        Assert.Equal(10, sent.Count);
        uint[] starts = new uint[11];
        for (int i = 0; i <= 10; i++)
            starts[i] = iss + 1 + (uint)(i * 1460);
        Assert.Equal(starts[..10], sent.Select(s => s.Sequence));
        return (f, starts);
    }

    [Theory]
    [InlineData(TcpCongestionControl.NewReno, 5 * 1460)]
    [InlineData(TcpCongestionControl.Cubic, 7 * 1460)]
    public void Sender_ScoreboardRetransmitsEachLostHoleOnceWithoutWaitingForPartialAcks(TcpCongestionControl congestionControl, int ssthresh)
    {
        (TcpFixture f, uint[] s) = TenSegmentsInFlight(congestionControl);
        const uint Ack = 1001 + 14600;
        // S0 arrived: a new ACK.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, Ack, s[1], window: 512)));
        // S2, S4 and S5 SACKed: three segments, so every hole below S5 is lost (RACK with no reordering seen, as
        // Linux's tcp_rack_detect_loss; RFC 6675's IsLost would call only S1 lost). Four segments are still out (S6 to
        // S9), and PRR lets out what fits below ssthresh, at least the fast retransmission: under NewReno (ssthresh half
        // the cwnd of 11 segments: 5) S1 alone, under CUBIC (7) S1 and S3 at once, before any partial ACK.
        var first = f.Send(Segment(7, TcpFlags.Ack, Ack, s[1], window: 512, sack: Sack((s[4], s[6]), (s[2], s[3]))));
        bool both = congestionControl == TcpCongestionControl.Cubic;
        Assert.Equal(both ? new[] { s[1], s[3] } : new[] { s[1] }, first.Select(x => x.Sequence));
        Assert.All(first, x => Assert.Equal(1460, x.Payload.Length));
        Assert.Equal(1, f[StatCounter.TcpSackRecoveries]);
        // S6 and S7 SACKed too: under NewReno pipe is three segments now (S1 again, S8, S9), so S3 goes. S8 and S9 lie
        // above the highest SACKed segment: not lost, not sent again.
        var second = f.Send(Segment(7, TcpFlags.Ack, Ack, s[1], window: 512, sack: Sack((s[4], s[8]), (s[2], s[3]))));
        Assert.Equal(both ? Array.Empty<uint>() : new[] { s[3] }, second.Select(x => x.Sequence));
        // The retransmitted S1 arrives: a partial ACK. S3 was already sent again: nothing goes.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, Ack, s[3], window: 512, sack: Sack((s[4], s[8])))));
        // Another duplicate ACK: still nothing to send (NewReno would have sent S3 a second time at the partial ACK).
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, Ack, s[3], window: 512, sack: Sack((s[4], s[9])))));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, Ack, s[10], window: 512)));
        Assert.Equal(2, f[StatCounter.TcpSackRetransmits]);
        Assert.Equal(2, f[StatCounter.TcpRetransmits]);
        Assert.Equal(0, f[StatCounter.TcpTimeouts]);
        // Recovery ends as Linux's (tcp_end_cwnd_reduction): cwnd at ssthresh.
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(ssthresh, c.SlowStartThreshold);
        Assert.Equal(ssthresh, c.CongestionWindow);
    }

    [Fact]
    public void Sender_Timeout_KeepsTheScoreboard_GoBackNResendsOnlyTheHoles()
    {
        (TcpFixture f, uint[] s) = TenSegmentsInFlight();
        const uint Ack = 1001 + 14600;
        // The client holds S1, S3, S5, S7 and S9 and says so, newest first, three blocks at most per ACK.
        f.Send(Segment(7, TcpFlags.Ack, Ack, s[0], window: 512, sack: Sack((s[1], s[2]))));
        f.Send(Segment(7, TcpFlags.Ack, Ack, s[0], window: 512, sack: Sack((s[3], s[4]), (s[1], s[2]))));
        f.Send(Segment(7, TcpFlags.Ack, Ack, s[0], window: 512, sack: Sack((s[5], s[6]), (s[3], s[4]), (s[1], s[2]))));
        f.Send(Segment(7, TcpFlags.Ack, Ack, s[0], window: 512, sack: Sack((s[7], s[8]), (s[5], s[6]), (s[3], s[4]))));
        f.Send(Segment(7, TcpFlags.Ack, Ack, s[0], window: 512, sack: Sack((s[9], s[10]), (s[7], s[8]), (s[5], s[6]))));
        // Every retransmission of the recovery is lost too: the retransmission timer sends S0 once more.
        List<Sent> afterTimeout = new();
        for (int i = 0; i < 40 && f[StatCounter.TcpTimeouts] == 0; i++)
            afterTimeout.AddRange(f.Advance(TimeSpan.FromMilliseconds(100)));
        Assert.Equal(1, f[StatCounter.TcpTimeouts]);
        Assert.Equal(s[0], Assert.Single(afterTimeout, x => x.Payload.Length > 0).Sequence);
        // A timeout inside a fast recovery keeps the recovery's ssthresh (0.7 of the 10 segments before it), as Linux's
        // tcp_enter_loss does, rather than cutting what PRR had already cut.
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(7 * 1460, c.SlowStartThreshold);

        // S0 arrives; the ACK's three blocks no longer name S1's neighbour S3. Slow start from one segment lets three
        // out, and the go-back-N steps over all the peer SACKed before the timeout, S3 included, as Linux keeps SACKed
        // segments marked (tcp_timeout_mark_lost): S2, S4, S6.
        var goBackN = f.Send(Segment(7, TcpFlags.Ack, Ack, s[2], window: 512, sack: Sack((s[9], s[10]), (s[7], s[8]), (s[5], s[6]))));
        Assert.Equal(new[] { s[2], s[4], s[6] }, goBackN.Where(x => x.Payload.Length > 0).Select(x => x.Sequence));
        Assert.Equal(0, f[StatCounter.TcpConnectionsReset]);
    }

    [Fact]
    public void Sender_InvalidBlocksIgnored()
    {
        (TcpFixture f, uint[] s) = TenSegmentsInFlight();
        const uint Ack = 1001 + 14600;
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, Ack, s[1], window: 512)));
        // Beyond what was sent, inverted, below the ACK (D-SACK): none makes anything lost.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, Ack, s[1], window: 512, sack: Sack((s[9], s[10] + 5000), (s[6], s[4]), (s[0], s[1])))));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, Ack, s[1], window: 512, sack: Sack((s[9], s[10] + 5000)))));
        Assert.Equal(0, f[StatCounter.TcpRetransmits]);
        // The third duplicate ACK still recovers, NewReno's way since no valid block was seen.
        Sent r = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, Ack, s[1], window: 512)));
        Assert.Equal(s[1], r.Sequence);
        Assert.Equal(0, f[StatCounter.TcpSackRecoveries]);
    }

    [Fact]
    public void Sender_TimeoutForgetsTheScoreboardAndGoesBackToSndUna()
    {
        (TcpFixture f, uint[] s) = TenSegmentsInFlight();
        const uint Ack = 1001 + 14600;
        f.Send(Segment(7, TcpFlags.Ack, Ack, s[1], window: 512, sack: Sack((s[4], s[6]), (s[2], s[3]))));
        List<Sent> timeout = f.Advance(TimeSpan.FromSeconds(1.1));
        Sent r = Assert.Single(timeout);
        Assert.Equal(s[1], r.Sequence);
        Assert.Equal(1, f[StatCounter.TcpTimeouts]);
    }
}
