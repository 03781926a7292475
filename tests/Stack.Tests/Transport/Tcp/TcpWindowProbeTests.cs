using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// Zero-window probing and small windows as Linux does them (tcp_probe_timer, tcp_write_wakeup, tcp_ack_probe,
// tcp_retransmit_timer's shrunk-window branch, tcp_bound_to_half_wnd). The client's window scale is 7: a window
// field of 4 is 512 octets.
public class TcpWindowProbeTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxRto = TimeSpan.FromSeconds(120);

    private static TcpFixture Echo(TcpSettings? settings = null)
    {
        var f = new TcpFixture(settings);
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        return f;
    }

    private static TcpConnection Only(TcpFixture f) => Assert.Single(f.Tcp.ConnectionsOf(0));

    // The echo's reply to "abc" waits behind a shut window; returns our ISN.
    private static uint EchoIntoShutWindow(TcpFixture f)
    {
        uint iss = f.Connect(7);
        Assert.DoesNotContain(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "abc"u8, window: 0)), s => s.Payload.Length > 0);
        return iss;
    }

    [Fact]
    public void ShutWindow_ProbeIsAnEmptyAckBelowSndUna_AtTheRto_ThenBackedOff()
    {
        TcpFixture f = Echo();
        uint iss = EchoIntoShutWindow(f);
        TimeSpan rto = Only(f).RetransmissionTimeout;
        Assert.Empty(f.Advance(rto - Tick));
        Sent probe = Assert.Single(f.Advance(2 * Tick));
        Assert.Equal(TcpFlags.Ack, probe.Flags);
        Assert.Equal(iss, probe.Sequence); // SND.UNA - 1: the peer sees an old segment and answers with its window
        Assert.Equal(1004u, probe.Ack);
        Assert.Empty(probe.Payload);
        Assert.Equal(1, f[StatCounter.TcpWindowProbes]);
        Assert.Equal(1, Only(f).WindowProbesOutstanding);
        // A probe is not a retransmission, and no data has left.
        Assert.Equal(0, f[StatCounter.TcpRetransmits]);
        Assert.Equal(0, f[StatCounter.TcpTimeouts]);
        Assert.Equal(0, f[StatCounter.TcpBytesSent]);

        // The answer still shows a shut window: the next probe comes twice the interval after it.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1004, iss + 1, window: 0)));
        Assert.Equal(0, Only(f).WindowProbesOutstanding);
        Assert.Empty(f.Advance(2 * rto - Tick));
        Sent second = Assert.Single(f.Advance(2 * Tick));
        Assert.Equal(iss, second.Sequence);
        Assert.Empty(second.Payload);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1004, iss + 1, window: 0)));
        Assert.Empty(f.Advance(4 * rto - Tick));
        Assert.Single(f.Advance(2 * Tick));

        // The window opens: the data goes at once, and its timer is the retransmission timer again.
        Sent data = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1004, iss + 1, window: 512)));
        Assert.Equal(iss + 1, data.Sequence);
        Assert.Equal("abc"u8.ToArray(), data.Payload);
        Assert.Equal(3, f[StatCounter.TcpBytesSent]);
        Assert.Equal(0, f[StatCounter.TcpRetransmits]);
        Sent again = Assert.Single(f.Advance(Only(f).RetransmissionTimeout + Tick));
        Assert.Equal("abc"u8.ToArray(), again.Payload);
        Assert.Equal(1, f[StatCounter.TcpRetransmits]);
    }

    [Fact]
    public void ShutWindow_AnsweredProbes_KeepTheConnectionPastTheRetryLimit()
    {
        // RFC 1122 §4.2.2.17: while the receiver answers, the sender keeps probing. Linux resets icsk_probes_out with
        // each ACK, so 40 answered probes (tcp_retries2 is 15) leave the connection open.
        TcpFixture f = Echo();
        uint iss = EchoIntoShutWindow(f);
        for (int i = 0; i < 40; i++)
        {
            Sent probe = Assert.Single(f.Advance(MaxRto));
            Assert.Equal(iss, probe.Sequence);
            Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1004, iss + 1, window: 0)));
        }
        Assert.Equal(40, f[StatCounter.TcpWindowProbes]);
        Assert.Equal(TcpState.Established, Only(f).State);
        Assert.Equal(0, f[StatCounter.TcpAbortOnTimeout]);
        Assert.Equal("abc"u8.ToArray(), Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1004, iss + 1, window: 512))).Payload);
    }

    [Fact]
    public void ShutWindow_UnansweredProbes_ConnectionDroppedQuietlyAfterTheRetryLimit()
    {
        TcpFixture f = Echo();
        EchoIntoShutWindow(f);
        TcpConnection connection = Only(f);
        for (int i = 0; i < 15; i++)
            Assert.Single(f.Advance(MaxRto));
        Assert.Equal(15, connection.WindowProbesOutstanding);
        // tcp_probe_timer: the 16th expiry with 15 probes out ends it with ETIMEDOUT and no RST (tcp_write_err).
        Assert.Empty(f.Advance(MaxRto));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpError.TimedOut, connection.CloseError);
        Assert.Equal(1, f[StatCounter.TcpAbortOnTimeout]);
        Assert.Equal(0, f[StatCounter.TcpResetsSent]);
    }

    [Fact]
    public void SmallWindow_NothingInFlight_WaitsForTheProbeTimer_ThenSendsWhatFits()
    {
        // 3,000 octets to echo and 512 of window: the first segment (1,460) does not fit, so Linux's tcp_write_xmit
        // sends nothing and tcp_write_wakeup later sends the 512 the window takes, pushed.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        byte[] stream = new byte[3000];
        new Random(5).NextBytes(stream);
        Assert.DoesNotContain(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, stream, window: 4)), s => s.Payload.Length > 0);
        TimeSpan rto = Only(f).RetransmissionTimeout;
        Assert.Empty(f.Advance(rto - Tick));
        Sent part = Assert.Single(f.Advance(2 * Tick));
        Assert.Equal(iss + 1, part.Sequence);
        Assert.Equal(stream.AsSpan(0, 512).ToArray(), part.Payload);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, part.Flags);
        Assert.Equal(0, f[StatCounter.TcpWindowProbes]);

        // Its ACK offers 512 again: the wait starts over at the base interval (data left, so no back-off).
        // (The ACK timed that segment: the interval is the new RTO.)
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 4001, iss + 513, window: 4)));
        rto = Only(f).RetransmissionTimeout;
        Assert.Empty(f.Advance(rto - Tick));
        Assert.Equal(stream.AsSpan(512, 512).ToArray(), Assert.Single(f.Advance(2 * Tick)).Payload);

        // A full window: the rest in MSS-sized segments.
        var echoed = new List<byte>(stream.AsSpan(0, 1024).ToArray());
        foreach (Sent s in f.Send(Segment(7, TcpFlags.Ack, 4001, iss + 1025, window: 512)))
            echoed.AddRange(s.Payload);
        Assert.Equal(stream, echoed.ToArray());
    }

    [Fact]
    public void TinyPeerWindow_SegmentsCutToHalfOfTheLargestWindow()
    {
        // A peer without window scaling that offers 1,000 octets: Linux's tcp_bound_to_half_wnd sends 500-octet
        // segments, two in flight, rather than one of 1,000 and then nothing until it is acknowledged.
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, window: 1000, mss: 1460)));
        uint iss = synAck.Sequence;
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, window: 1000)));
        List<Sent> echoed = f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[3000], window: 1000));
        Assert.Equal([500, 500], echoed.Where(s => s.Payload.Length > 0).Select(s => s.Payload.Length));
        Assert.Equal([500, 500], f.Send(Segment(7, TcpFlags.Ack, 4001, iss + 1001, window: 1000)).Select(s => s.Payload.Length));
    }

    [Fact]
    public void ShutWindowOnDataInFlight_TimeoutResendsAWholeSegment_AndGivesUpOnlyOnSilence()
    {
        // tcp_retransmit_timer with snd_wnd 0: SND.UNA's segment goes again whole, the timeouts count toward no
        // limit while the peer answers, and only 120 s without a word from it end the connection. (The retransmission
        // timer alone: no tail loss probe first.)
        TcpFixture f = Echo(new TcpSettings { LossProbes = false });
        uint iss = f.Connect(7);
        byte[] stream = new byte[2920];
        new Random(13).NextBytes(stream);
        Assert.Equal(2, f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, stream, window: 512)).Count(s => s.Payload.Length == 1460));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 3921, iss + 1, window: 0)));
        for (int i = 0; i < 20; i++)
        {
            Sent again = Assert.Single(f.Advance(MaxRto));
            Assert.Equal(iss + 1, again.Sequence);
            Assert.Equal(stream.AsSpan(0, 1460).ToArray(), again.Payload);
            Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 3921, iss + 1, window: 0)));
        }
        Assert.Equal(TcpState.Established, Only(f).State);
        Assert.Equal(0, f[StatCounter.TcpTimeouts]);
        Assert.Equal(20, f[StatCounter.TcpRetransmits]);
        Assert.Equal(0, f[StatCounter.TcpWindowProbes]);

        // Silence: one more retransmission at 120 s, and at the next expiry, 240 s after the last answer, the end.
        TcpConnection connection = Only(f);
        Assert.Single(f.Advance(MaxRto));
        Assert.Empty(f.Advance(MaxRto));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpError.TimedOut, connection.CloseError);
        Assert.Equal(0, f[StatCounter.TcpResetsSent]);
    }

    [Fact]
    public void ShutWindow_FinWaitsForRoom_ProbedMeanwhile()
    {
        // All data acknowledged with a shut window, then the peer's FIN: the echo closes, but a FIN takes a sequence
        // number and Linux holds it (tcp_snd_wnd_test) and probes until the window opens.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Assert.Equal("abc"u8.ToArray(), Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "abc"u8, window: 512)))).Payload);
        Sent ackOfFin = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Fin, 1004, iss + 4, window: 0)));
        Assert.Equal(TcpFlags.Ack, ackOfFin.Flags);
        Assert.Equal(1005u, ackOfFin.Ack);
        Assert.Equal(TcpState.LastAck, Only(f).State);
        Sent probe = Assert.Single(f.Advance(Only(f).RetransmissionTimeout + Tick));
        Assert.Equal(TcpFlags.Ack, probe.Flags);
        Assert.Equal(iss + 3, probe.Sequence);
        Sent fin = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1005, iss + 4, window: 512)));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Fin, fin.Flags);
        Assert.Equal(iss + 4, fin.Sequence);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1005, iss + 5, window: 512)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    // The echo has closed (the peer's FIN came after all was acknowledged) and its FIN waits on a shut window: an
    // orphan, as a Linux server's socket is after close(). Returns our ISN.
    private static uint OrphanBehindShutWindow(TcpFixture f)
    {
        uint iss = f.Connect(7);
        Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "abc"u8, window: 512))));
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Fin, 1004, iss + 4, window: 0)));
        Assert.True(Only(f).Orphaned);
        return iss;
    }

    [Fact]
    public void Orphan_AnsweredProbes_GiveUpOnceTheIntervalReachesTheMaximumRto()
    {
        // Linux's tcp_probe_timer for a dead socket (tcp_orphan_retries 0): answered or not, the probing ends when
        // its backed-off interval reaches TCP_RTO_MAX. From a 200 ms RTO that is after 10 probes (200 ms << 10).
        TcpFixture f = Echo();
        uint iss = OrphanBehindShutWindow(f);
        TcpConnection connection = Only(f);
        for (int i = 0; i < 10; i++)
        {
            Sent probe = Assert.Single(f.Advance(MaxRto));
            Assert.Equal(iss + 3, probe.Sequence);
            Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1005, iss + 4, window: 0)));
        }
        Assert.Empty(f.Advance(MaxRto));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpError.TimedOut, connection.CloseError);
        Assert.Equal(10, f[StatCounter.TcpWindowProbes]);
        Assert.Equal(0, f[StatCounter.TcpResetsSent]);
    }

    [Fact]
    public void Orphan_UnansweredProbes_GiveUpAfterEight()
    {
        TcpFixture f = Echo();
        OrphanBehindShutWindow(f);
        for (int i = 0; i < 8; i++)
            Assert.Single(f.Advance(MaxRto));
        Assert.Empty(f.Advance(MaxRto));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpAbortOnTimeout]);
    }
}
