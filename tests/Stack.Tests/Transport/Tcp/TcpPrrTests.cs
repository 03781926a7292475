using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>
/// What a SACK lets out, as Linux decides it: before any recovery SACKed data has left the network (pipe), and in a
/// recovery Proportional Rate Reduction (RFC 6937, tcp_cwnd_reduction) spreads the cut over the round trip instead of
/// stopping until the flight drains below ssthresh (RFC 6675 alone).
/// </summary>
public class TcpPrrTests
{
    private const int Mss = 1460;
    private const uint ClientNext = 1001 + (20 * Mss);

    // An echo connection with a 50 ms handshake; 20 × MSS echoed, of which the initial window sent S0..S9.
    private static (TcpFixture F, uint[] S) TenOutTenQueued()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: Mss, windowScale: 7, sackPermitted: true)));
        f.Advance(TimeSpan.FromMilliseconds(50));
        uint iss = synAck.Sequence;
        f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, window: 512));
        var sent = new List<Sent>();
        for (int i = 0; i < 4; i++)
            sent.AddRange(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001 + (uint)(i * 5 * Mss), iss + 1, new byte[5 * Mss], window: 512)).Where(s => s.Payload.Length > 0));
        uint[] s = Enumerable.Range(0, 21).Select(i => iss + 1 + (uint)(i * Mss)).ToArray();
        Assert.Equal(s[..10], sent.Select(x => x.Sequence));
        return (f, s);
    }

    private static List<Sent> SackOf(TcpFixture f, uint[] s, int from, int to) =>
        f.Send(Segment(7, TcpFlags.Ack, ClientNext, s[0], window: 512, sack: Sack((s[from], s[to + 1])))).Where(x => x.Payload.Length > 0).ToList();

    [Fact]
    public void BeforeRecovery_ASackedSegmentLetsANewOneOut()
    {
        (TcpFixture f, uint[] s) = TenOutTenQueued();
        f.Advance(TimeSpan.FromMilliseconds(50));

        // S1 arrived, S0 did not: ten were out, nine are in the network, so the tenth may go (Linux's
        // tcp_packets_in_flight leaves SACKed segments out; counting from SND.UNA would send nothing).
        Assert.Equal(new[] { s[10] }, SackOf(f, s, 1, 1).Select(x => x.Sequence));
        Assert.Equal(0, f[StatCounter.TcpRetransmits]);
    }

    [Fact]
    public void Recovery_FlightAboveSsthresh_EachAckLetsOutItsShare()
    {
        (TcpFixture f, uint[] s) = TenOutTenQueued();
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        f.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(new[] { s[10] }, SackOf(f, s, 1, 1).Select(x => x.Sequence));

        // The reordering window (a quarter of the 50 ms RTT) runs out: S0 is lost. Eleven were out, one SACKed, one
        // lost: pipe 9 segments, above ssthresh (β_cubic of the cwnd of 10: 7). PRR: ceil(ssthresh × delivered / prior
        // cwnd) − sent: 1 for the timer's one, then 1, 1, 0, 1, 1 as S2..S6 are SACKed (Linux's numbers exactly).
        List<Sent> atTimer = f.Advance(TimeSpan.FromMilliseconds(14)).Where(x => x.Payload.Length > 0).ToList();
        Assert.Equal(new[] { s[0] }, atTimer.Select(x => x.Sequence));
        Assert.Equal(7 * Mss, c.SlowStartThreshold);
        Assert.Equal(new[] { s[11] }, SackOf(f, s, 1, 2).Select(x => x.Sequence));
        Assert.Equal(new[] { s[12] }, SackOf(f, s, 1, 3).Select(x => x.Sequence));
        Assert.Empty(SackOf(f, s, 1, 4));
        Assert.Equal(new[] { s[13] }, SackOf(f, s, 1, 5).Select(x => x.Sequence));
        Assert.Equal(new[] { s[14] }, SackOf(f, s, 1, 6).Select(x => x.Sequence));
        Assert.Equal(1, f[StatCounter.TcpSackRecoveries]);
        Assert.Equal(1, f[StatCounter.TcpRetransmits]);

        // S0 arrives: the recovery ends with cwnd at ssthresh (tcp_end_cwnd_reduction).
        f.Send(Segment(7, TcpFlags.Ack, ClientNext, s[15], window: 512));
        Assert.Equal(c.SlowStartThreshold, c.CongestionWindow);
    }
}
