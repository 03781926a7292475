using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

public class TcpDataTests
{
    private static TcpFixture Echo(TcpSettings? settings = null)
    {
        var f = new TcpFixture(settings);
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        return f;
    }

    // The retransmission timer alone, as Linux with net.ipv4.tcp_early_retrans = 0: the fixture's connections agree
    // to SACK, so a tail loss probe would otherwise come first (TcpLossProbeTests).
    private static TcpFixture EchoWithoutLossProbes() => Echo(new TcpSettings { LossProbes = false });

    [Fact]
    public void Echo_DataComesBackAcked()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent reply = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "hello"u8, window: 512))));
        Assert.Equal("hello"u8.ToArray(), reply.Payload);
        Assert.Equal(iss + 1, reply.Sequence);
        Assert.Equal(1006u, reply.Ack);
        Assert.Equal(1, f[StatCounter.TcpEstablished]);
        Assert.Equal(5, f[StatCounter.TcpBytesReceived]);
        Assert.Equal(5, f[StatCounter.TcpBytesSent]);
    }

    // Linux's quick-ACK mode at the start of a connection: the first data is ACKed at once, segment by segment, as
    // many times as half the window holds full segments, at most 16 (TCP_MAX_QUICKACKS); a 64 KiB window gives 16.
    private const int QuickAcks = 16;

    // Sends QuickAcks small segments to the discard service, each ACKed at once; returns the next sequence number.
    private static uint UseUpQuickAcks(TcpFixture f, uint iss)
    {
        uint seq = 1001;
        for (int i = 0; i < QuickAcks; i++)
        {
            Sent ack = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, seq, iss + 1, new byte[100], window: 512)));
            seq += 100;
            Assert.Equal(seq, ack.Ack);
            Assert.Empty(ack.Payload);
        }
        return seq;
    }

    [Fact]
    public void Discard_QuickAcksAtTheStart_ThenDelayedAckAfter40Milliseconds()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Discard, 9)));
        uint iss = f.Connect(9);
        uint seq = UseUpQuickAcks(f, iss);
        Assert.Empty(f.Send(Segment(9, TcpFlags.Ack, seq, iss + 1, new byte[100], window: 512)));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(39)));
        Sent ack = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(seq + 100, ack.Ack);
        Assert.Empty(ack.Payload);
    }

    [Fact]
    public void Discard_AfterASilenceLongerThanTheRto_QuickAcksAgain()
    {
        // tcp_event_data_recv: data after more than an RTO without any restarts quick ACKs.
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Discard, 9)));
        uint iss = f.Connect(9);
        uint seq = UseUpQuickAcks(f, iss);
        f.Advance(TimeSpan.FromSeconds(2));
        Sent ack = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, seq, iss + 1, new byte[100], window: 512)));
        Assert.Equal(seq + 100, ack.Ack);
    }

    [Fact]
    public void Discard_SecondFullSegmentAckedAtOnce()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Discard, 9)));
        uint iss = f.Connect(9);
        uint seq = UseUpQuickAcks(f, iss);
        Assert.Empty(f.Send(Segment(9, TcpFlags.Ack, seq, iss + 1, new byte[1460], window: 512)));
        Sent ack = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, seq + 1460, iss + 1, new byte[1460], window: 512)));
        Assert.Equal(seq + 2920, ack.Ack);
    }

    [Fact]
    public void OutOfOrder_DuplicateAckThenMergedWhenTheHoleFills()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent dup = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1004, iss + 1, "def"u8, window: 512)));
        Assert.Equal(1001u, dup.Ack);
        Assert.Empty(dup.Payload);
        Assert.Equal(1, f[StatCounter.TcpOutOfOrderQueued]);
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "abc"u8, window: 512))));
        Assert.Equal("abcdef"u8.ToArray(), echo.Payload);
        Assert.Equal(1007u, echo.Ack);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public void OutOfOrder_FinKeptAndTakenWhenTheHoleFills(int finSegmentData)
    {
        // Linux keeps a FIN that comes beyond RCV.NXT with its segment in the out-of-order queue and takes it when
        // the hole fills: the ACK for the missing segment covers the FIN too, and the peer need not send it again.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent dup = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Fin, 1004, iss + 1, new byte[finSegmentData], window: 512)));
        Assert.Equal(1001u, dup.Ack);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.False(c.PeerClosed);
        List<Sent> answer = f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "abc"u8, window: 512));
        uint finAck = 1004 + (uint)finSegmentData + 1;
        Assert.Contains(answer, s => s.Ack == finAck);
        Assert.True(c.PeerClosed);
        // The echo answers everything it read and closes its side too.
        Assert.Equal(3 + finSegmentData, answer.Sum(s => s.Payload.Length));
        Assert.Contains(answer, s => (s.Flags & TcpFlags.Fin) != 0);
    }

    [Fact]
    public void OutOfOrder_OverlappingAndDuplicateSegmentsDeliveredOnce()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        f.Send(Segment(7, TcpFlags.Ack, 1007, iss + 1, "ghi"u8, window: 512));
        f.Send(Segment(7, TcpFlags.Ack, 1005, iss + 1, "efgh"u8, window: 512));
        f.Send(Segment(7, TcpFlags.Ack, 1013, iss + 1, "mn"u8, window: 512));
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "abcdef"u8, window: 512))));
        Assert.Equal("abcdefghi"u8.ToArray(), echo.Payload);
        Assert.Equal(1010u, echo.Ack);
        // An old duplicate is ACKed and not delivered again.
        Sent ack = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 10, "abc"u8, window: 512)));
        Assert.Empty(ack.Payload);
        Assert.Equal(1010u, ack.Ack);
    }

    [Fact]
    public void OutOfOrder_KeptWhileTheApplicationDrainsEverythingBeforeTheHole()
    {
        // The echo's send buffer takes only part of the in-order data, so the receive ring's head moves off 0; then the
        // application drains it while out-of-order octets wait past the hole. Those octets must stay where the hole's
        // filler finds them (an emptied ring once jumped its head back to 0 and echoed stale bytes: CI, 10 MB over IPv6).
        TcpFixture f = Echo(new TcpSettings { ReceiveBufferSize = 4096, SendBufferSize = 1024 });
        uint iss = f.Connect(7);
        byte[] stream = new byte[1700];
        for (int i = 0; i < stream.Length; i++)
            stream[i] = (byte)(i % 251);
        var echoed = new byte[stream.Length];
        int echoedEnd = 0;
        void Collect(List<Sent> sent)
        {
            foreach (Sent s in sent)
            {
                int at = (int)(s.Sequence - (iss + 1));
                s.Payload.CopyTo(echoed, at);
                echoedEnd = Math.Max(echoedEnd, at + s.Payload.Length);
            }
        }
        Collect(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, stream.AsSpan(0, 1500))));
        Assert.Equal(1024, echoedEnd);
        Collect(f.Send(Segment(7, TcpFlags.Ack, 1001 + 1600, iss + 1, stream.AsSpan(1600, 100))));
        Assert.Equal(1, f[StatCounter.TcpOutOfOrderQueued]);
        // The client ACKs the echo: the send buffer frees and the application drains the receive ring to the hole.
        Collect(f.Send(Segment(7, TcpFlags.Ack, 1001 + 1700, iss + 1 + 1024)));
        Assert.Equal(1500, echoedEnd);
        Collect(f.Send(Segment(7, TcpFlags.Ack, 1001 + 1500, iss + 1 + 1500, stream.AsSpan(1500, 100))));
        Assert.Equal(stream.Length, echoedEnd);
        Assert.Equal(stream, echoed);
    }

    [Fact]
    public void ReceiveWindow_FullBufferRefusesBeyondIt()
    {
        var f = new TcpFixture(new TcpSettings { ReceiveBufferSize = 4096, SendBufferSize = 1024 });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        // The client's window is 0: the echo fills its send buffer and cannot send, so received data stays and the window closes.
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460)));
        // The buffer rounded down to whole segments, as Linux's tcp_select_initial_window.
        Assert.Equal(2920, synAck.Header.WindowSize);
        uint iss = synAck.Sequence;
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, window: 0)));
        byte[] data = new byte[1000];
        uint seq = 1001;
        Sent last = default;
        for (int i = 0; i < 4; i++, seq += 1000)
            last = f.Send(Segment(7, TcpFlags.Ack, seq, iss + 1, data, window: 0)).Concat(f.Advance(TimeSpan.FromMilliseconds(40))).Last();
        Assert.Equal(4096 - (4000 - 1024), last.Header.WindowSize);
        // Past the window: not accepted, answered with an ACK that does not move.
        Sent refused = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, seq + 1200, iss + 1, data, window: 0)));
        Assert.Equal(seq, refused.Ack);
        Assert.Equal(1, f[StatCounter.TcpOutOfWindow]);
    }

    [Fact]
    public void Send_SegmentedToMssAndBoundedByPeerWindow()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        // Window 512 << 7 = 64 KiB, so the initial window (10 segments of 1460) is the bound: 4000 octets go at once in MSS pieces.
        List<Sent> sent = AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[4000], window: 512)));
        Assert.Equal([1460, 1460, 1080], sent.Select(s => s.Payload.Length));
        Assert.Equal([iss + 1, iss + 1461, iss + 2921], sent.Select(s => s.Sequence));
    }

    [Fact]
    public void Rto_AckOfWhatLeftBeforeTheTimeoutIsAccepted()
    {
        // The timeout rewinds SND.NXT to SND.UNA; the peer's ACK of all three original segments then lies above
        // SND.NXT but not above what was sent, and must free the send buffer rather than be refused as "never sent".
        TcpFixture f = EchoWithoutLossProbes();
        uint iss = f.Connect(7);
        Assert.Equal(3, f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[3000], window: 512)).Count(s => s.Payload.Length > 0));
        Sent again = Assert.Single(f.Advance(TimeSpan.FromSeconds(1)), s => s.Payload.Length > 0);
        Assert.Equal(iss + 1, again.Sequence);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 4001, iss + 3001, window: 512)));
        Sent next = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 4001, iss + 3001, "more"u8, window: 512)));
        Assert.Equal(iss + 3001, next.Sequence);
        Assert.DoesNotContain(f.Advance(TimeSpan.FromSeconds(1)), s => s.Payload.Length > 1000);
    }

    [Fact]
    public void Rto_RetransmissionReachingPastWhatWasSent_ItsAckIsAccepted()
    {
        // 100 octets go out; 1,000 more wait behind the peer's small window. The timeout's retransmission of SND.UNA's
        // segment carries them too, past the old SND.MAX: the peer's ACK of all 1,100 must be taken, not refused as
        // "data never sent" (the reorder property test found a connection stuck that way for good).
        TcpFixture f = EchoWithoutLossProbes();
        uint iss = f.Connect(7);
        Sent first = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[100], window: 1)), s => s.Payload.Length > 0);
        Assert.Equal(100, first.Payload.Length);
        Assert.DoesNotContain(f.Send(Segment(7, TcpFlags.Ack, 1101, iss + 1, new byte[1000], window: 1)), s => s.Payload.Length > 0);
        Sent again = Assert.Single(f.Advance(TimeSpan.FromSeconds(1)), s => s.Payload.Length > 0);
        Assert.Equal(iss + 1, again.Sequence);
        uint end = again.Sequence + (uint)again.Payload.Length;
        // The window (1 << 7 = 128 octets) bounds it, and still reaches past the 100 octets sent.
        Assert.Equal(128, again.Payload.Length);
        List<Sent> rest = f.Send(Segment(7, TcpFlags.Ack, 2101, end, window: 512));
        Assert.Equal(end, rest[0].Sequence);
        Assert.Equal(1100 - 128, rest.Sum(s => s.Payload.Length));
        uint all = iss + 1 + 1100;
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 2101, all, window: 512)));
        Sent next = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 2101, all, "more"u8, window: 512)), s => s.Payload.Length > 0);
        Assert.Equal(all, next.Sequence);
    }

    [Fact]
    public void Rto_PeerShrankTheWindow_RetransmissionFitsIt_ShutWindowGetsAWholeSegment()
    {
        // 2,920 octets in flight, then the peer shrinks its window to 256 octets without ACKing any: the timeout's
        // retransmission carries only those 256 (Linux's tcp_retransmit_skb), not an MSS the peer would drop.
        TcpFixture f = EchoWithoutLossProbes();
        uint iss = f.Connect(7);
        byte[] stream = new byte[2920];
        new Random(13).NextBytes(stream);
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, stream.AsSpan(0, 1460), window: 512)), s => s.Payload.Length == 1460);
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 2461, iss + 1, stream.AsSpan(1460), window: 512)), s => s.Payload.Length == 1460);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 3921, iss + 1, window: 2)));
        Sent again = Assert.Single(f.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(iss + 1, again.Sequence);
        Assert.Equal(stream.AsSpan(0, 256).ToArray(), again.Payload);
        Assert.Equal(0, f[StatCounter.TcpBytesSent] - 2920);

        // Its ACK shuts the window with data still in flight: the next timeout sends SND.UNA's segment whole, as
        // Linux's tcp_retransmit_skb does when the window is zero (the peer drops it and answers with its window).
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 3921, iss + 1 + 256, window: 0)));
        Sent probe = Assert.Single(f.Advance(TimeSpan.FromSeconds(2)));
        Assert.Equal(iss + 1 + 256, probe.Sequence);
        Assert.Equal(stream.AsSpan(256, 1460).ToArray(), probe.Payload);
        Assert.Equal(TcpFlags.Ack, probe.Flags);

        // The window opens: the rest follows as the client ACKs it (cwnd is one MSS again), and the stream comes back whole.
        var echoed = new List<byte>(stream.AsSpan(0, 256 + 1460).ToArray());
        for (int round = 0; round < 10 && echoed.Count < stream.Length; round++)
        {
            foreach (Sent s in f.Send(Segment(7, TcpFlags.Ack, 3921, iss + 1 + (uint)echoed.Count, window: 512)))
            {
                Assert.Equal(iss + 1 + (uint)echoed.Count, s.Sequence);
                echoed.AddRange(s.Payload);
            }
        }
        Assert.Equal(stream, echoed.ToArray());
    }

    [Fact]
    public void SlowStart_StretchAck_GrowsCwndByAllItAcknowledged()
    {
        // Linux's tcp_slow_start (and gVisor's updateSlowStart): cwnd grows by every segment an ACK covers, so one
        // ACK for the whole initial window doubles it. RFC 5681's one SMSS per ACK would give eleven segments.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Assert.Equal(10, AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[14600], window: 512))).Count);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(14600, c.CongestionWindow);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001 + 14600, iss + 1 + 14600, window: 512)));
        Assert.Equal(29200, c.CongestionWindow);
        Assert.Equal(20, AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001 + 14600, iss + 1 + 14600, new byte[29200], window: 512))).Count);
    }

    [Fact]
    public void IdleLongerThanTheRto_CwndRestartsAtTheInitialWindow()
    {
        // Linux's tcp_slow_start_after_idle (on by default): after a silence of more than an RTO with nothing in
        // flight, cwnd halves per RTO of it down to the initial window; ssthresh becomes the larger of itself and
        // three quarters of the old window (tcp_current_ssthresh), here still the initial "infinity".
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Assert.Equal(10, AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[14600], window: 512))).Count);
        f.Send(Segment(7, TcpFlags.Ack, 1001 + 14600, iss + 1 + 14600, window: 512));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(29200, c.CongestionWindow);
        f.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(10, AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001 + 14600, iss + 1 + 14600, new byte[29200], window: 512))).Count);
        Assert.Equal(14600, c.CongestionWindow);
        Assert.Equal(int.MaxValue, c.SlowStartThreshold);
    }

    [Fact]
    public void SlowStart_ApplicationLimited_CwndStaysAtTwiceTheFlight()
    {
        // Linux's tcp_is_cwnd_limited: in slow start cwnd grows only while it is under twice the largest flight, so
        // a request-response connection keeps its initial window however many responses are ACKed.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        uint seq = 1001, ack = iss + 1;
        for (int i = 0; i < 200; i++)
        {
            // The first request's ACK goes ahead of its echo (quick-ACK mode); then the echoes carry them (ping-pong).
            List<Sent> sent = f.Send(Segment(7, TcpFlags.Ack, seq, ack, new byte[100], window: 512));
            Assert.Single(i == 0 ? AfterAck(sent) : sent);
            seq += 100;
            ack += 100;
        }
        f.Send(Segment(7, TcpFlags.Ack, seq, ack, window: 512));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(14600, c.CongestionWindow);
    }

    [Fact]
    public void Rto_RetransmitsWithBackoffAndCollapsesCwnd()
    {
        // The handshake took no time on the fixture's clock: its RTT sample puts the RTO at the 200 ms floor.
        TcpFixture f = EchoWithoutLossProbes();
        uint iss = f.Connect(7);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TimeSpan.FromMilliseconds(200), c.RetransmissionTimeout);
        TimeSpan srtt = c.SmoothedRtt;
        Sent original = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "hello"u8, window: 512))));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(199)));
        Sent again = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(original.Sequence, again.Sequence);
        Assert.Equal(original.Payload, again.Payload);
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(399)));
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(c.SendMss, c.CongestionWindow);
        Assert.Equal(TimeSpan.FromMilliseconds(800), c.RetransmissionTimeout);
        Assert.Equal(2, f[StatCounter.TcpTimeouts]);
        // The ACK ends it: no more retransmissions, and Karn's rule kept the retransmitted segment out of the RTT.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1006, iss + 6, window: 512)));
        Assert.Empty(f.Advance(TimeSpan.FromSeconds(10)));
        Assert.Equal(srtt, c.SmoothedRtt);
    }

    [Fact]
    public void Rtt_SampledFromTimedSegment_RtoHasFloor()
    {
        // A handshake of 10 ms (its sample comes from the SYN-ACK's ACK), then a data segment timed at 10 ms.
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, windowScale: 7)));
        uint iss = synAck.Sequence;
        f.Clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, window: 512)));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TimeSpan.FromMilliseconds(10), c.SmoothedRtt);
        Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "hello"u8, window: 512))));
        f.Clock.Advance(TimeSpan.FromMilliseconds(10));
        f.Send(Segment(7, TcpFlags.Ack, 1006, iss + 6, window: 512));
        Assert.Equal(TimeSpan.FromMilliseconds(10), c.SmoothedRtt);
        // Linux's estimator: RTTVAR never falls below the 200 ms minimum, and RTO = SRTT + RTTVAR.
        Assert.Equal(TimeSpan.FromMilliseconds(210), c.RetransmissionTimeout);
    }

    [Fact]
    public void Rtt_FallingRtt_LinuxEstimatorShrinksTheRtoSlowly()
    {
        // A 400 ms handshake (RTO 1.2 s: 3 x RTT), then a segment timed at 10 ms. Linux's tcp_rtt_estimator: SRTT
        // 400 - 390/8 = 351.25 ms; the deviation grows by (390 - 800/4)/8 = 23.75 ms, as a falling RTT gets 1/32 of
        // the usual gain, so RTO = 351.25 + 823.75 = 1,175 ms (RFC 6298's formula alone would give 1,341.25 ms).
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, windowScale: 7)));
        uint iss = synAck.Sequence;
        f.Clock.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, window: 512)));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TimeSpan.FromMilliseconds(1200), c.RetransmissionTimeout);
        Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "hello"u8, window: 512))));
        f.Clock.Advance(TimeSpan.FromMilliseconds(10));
        f.Send(Segment(7, TcpFlags.Ack, 1006, iss + 6, window: 512));
        Assert.Equal(TimeSpan.FromMicroseconds(351_250), c.SmoothedRtt);
        Assert.Equal(TimeSpan.FromMilliseconds(1175), c.RetransmissionTimeout);
    }

    [Fact]
    public void Rtt_FromTimestampEcho()
    {
        TcpFixture f = Echo();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, windowScale: 7, timestamps: new TcpTimestamps(100, 0))));
        uint iss = synAck.Sequence;
        f.Clock.Advance(TimeSpan.FromMilliseconds(30));
        f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, window: 512, timestamps: new TcpTimestamps(130, synAck.Header.Timestamps!.Value.Value)));
        Sent data = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "hello"u8, window: 512, timestamps: new TcpTimestamps(200, 0)))));
        uint tsval = data.Header.Timestamps!.Value.Value;
        Assert.Equal(200u, data.Header.Timestamps!.Value.EchoReply);
        f.Clock.Advance(TimeSpan.FromMilliseconds(30));
        f.Send(Segment(7, TcpFlags.Ack, 1006, iss + 6, window: 512, timestamps: new TcpTimestamps(230, tsval)));
        Assert.Equal(TimeSpan.FromMilliseconds(30), Assert.Single(f.Tcp.ConnectionsOf(0)).SmoothedRtt);
    }

    [Fact]
    public void Paws_OldTimestampDroppedAndAcked()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7, timestamps: true);
        Sent ack = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "old"u8, window: 512, timestamps: new TcpTimestamps(50, 0))));
        Assert.Empty(ack.Payload);
        Assert.Equal(1001u, ack.Ack);
        Assert.Equal(1, f[StatCounter.TcpPawsDrops]);
        Assert.Equal(0, f[StatCounter.TcpBytesReceived]);
    }

    [Fact]
    public void ThreeDuplicateAcks_FastRetransmitAndRecovery()
    {
        TcpFixture f = Echo(new TcpSettings { CongestionControl = TcpCongestionControl.NewReno });
        uint iss = f.Connect(7);
        List<Sent> sent = AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[5840], window: 512)));
        Assert.Equal(4, sent.Count);
        uint ack = 1001 + 5840;
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, ack, iss + 1, window: 512)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, ack, iss + 1, window: 512)));
        Sent retransmit = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, ack, iss + 1, window: 512)));
        Assert.Equal(iss + 1, retransmit.Sequence);
        Assert.Equal(1460, retransmit.Payload.Length);
        Assert.Equal(1, f[StatCounter.TcpFastRetransmits]);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        // Half of cwnd (the initial window, 10 segments), as Linux's tcp_reno_ssthresh; RFC 5681 would halve the flight.
        Assert.Equal(5 * 1460, c.SlowStartThreshold);
        // A partial ACK retransmits the next hole at once (NewReno).
        Sent next = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, ack, iss + 1461, window: 512)));
        Assert.Equal(iss + 1461, next.Sequence);
        // The full ACK ends recovery with cwnd at ssthresh.
        f.Send(Segment(7, TcpFlags.Ack, ack, iss + 5841, window: 512));
        Assert.Equal(5 * 1460, c.CongestionWindow);
    }

    [Fact]
    public void ThreeDuplicateAcks_Cubic_SsthreshIsBetaOfCwnd()
    {
        // The default algorithm is CUBIC (Linux's): the same fast retransmit, but ssthresh = 0.7 × cwnd in whole segments
        // (bictcp_recalc_ssthresh: 7 of the initial 10, though only 4 are in flight) and W_max = the window at the loss.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Assert.Equal(4, AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[5840], window: 512))).Count);
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpCongestionControl.Cubic, c.CongestionControl);
        int before = c.CongestionWindow;
        uint ack = 1001 + 5840;
        for (int i = 0; i < 2; i++)
            Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, ack, iss + 1, window: 512)));
        Sent retransmit = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, ack, iss + 1, window: 512)));
        Assert.Equal(iss + 1, retransmit.Sequence);
        Assert.Equal(7 * 1460, c.SlowStartThreshold);
        Assert.Equal(before, c.CubicWindowMax);
        Assert.Equal(iss + 1461, Assert.Single(f.Send(Segment(7, TcpFlags.Ack, ack, iss + 1461, window: 512))).Sequence);
        // Recovery ends as Linux's does (tcp_end_cwnd_reduction): cwnd = ssthresh.
        f.Send(Segment(7, TcpFlags.Ack, ack, iss + 5841, window: 512));
        Assert.Equal(7 * 1460, c.CongestionWindow);
    }

    [Fact]
    public void InWindowRst_ChallengeAck_ExactRst_Closes()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent challenge = Assert.Single(f.Send(Segment(7, TcpFlags.Rst, 1100, 0)));
        Assert.Equal(TcpFlags.Ack, challenge.Flags);
        Assert.Equal(1001u, challenge.Ack);
        Assert.Equal(1, f[StatCounter.TcpChallengeAcks]);
        Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Rst, 1001, 0)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpResetsReceived]);
    }

    [Fact]
    public void OutOfWindowRst_Ignored()
    {
        TcpFixture f = Echo();
        f.Connect(7);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Rst, 1001 + 1_000_000, 0)));
        Assert.Single(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public void SynInEstablished_ChallengeAck()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent challenge = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1001, 0)));
        Assert.Equal(TcpFlags.Ack, challenge.Flags);
        Assert.Equal(iss + 1, challenge.Sequence);
        Assert.Equal(1001u, challenge.Ack);
        Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
    }

    [Fact]
    public void AckOfUnsentData_AckedAndDropped()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent ack = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 100, "x"u8, window: 512)));
        Assert.Empty(ack.Payload);
        Assert.Equal(0, f[StatCounter.TcpBytesReceived]);
    }

    [Fact]
    public void PeerCloses_EchoClosesAfterItsData_LastAckThenGone()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        List<Sent> sent = f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Fin, 1001, iss + 1, "bye"u8, window: 512));
        Sent last = Assert.Single(sent);
        Assert.Equal("bye"u8.ToArray(), last.Payload);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Fin | TcpFlags.Psh, last.Flags);
        Assert.Equal(1005u, last.Ack);
        Assert.Equal(TcpState.LastAck, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1005, iss + 5, window: 512)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public void LostFin_RetransmittedByTimer()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent fin = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Fin, 1001, iss + 1, window: 512)));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Fin, fin.Flags);
        Sent again = Assert.Single(f.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Fin, again.Flags);
        Assert.Equal(iss + 1, again.Sequence);
    }
}
