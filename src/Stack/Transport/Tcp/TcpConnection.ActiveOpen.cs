using XdpStack.Stack.Wire;
using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// Active open (RFC 9293 §3.10.1 OPEN, §3.10.7.3 SYN-SENT): the SYN with the options the passive side negotiates,
// its retransmission (RFC 6298), the SYN-SENT rules for ACK, RST and SYN, and simultaneous open.
public sealed partial class TcpConnection
{
    // When the first SYN left, for the handshake's RTT sample (only if it was not retransmitted: Karn).
    private long _synSentUs;

    /// <summary>The neighbour segments go to until the peer's MAC is known: the route's gateway, or the peer itself on-link.</summary>
    internal IpAddress NextHop { get; private set; }

    /// <summary>
    /// Opens the connection (RFC 9293 §3.10.1): ISS per RFC 6528, a SYN offering MSS (egress MTU less the headers), window
    /// scaling, timestamps and SACK-permitted as Linux does, SYN-SENT, and the retransmission timer at the initial RTO.
    /// </summary>
    internal void Open(IpAddress nextHop, long nowUs)
    {
        TcpSettings settings = _worker.Settings;
        NextHop = nextHop;
        _iss = _worker.Isn.Generate(Key, TimeSpan.FromTicks(nowUs * 10));
        _sndUna = _iss;
        _sndNxt = _iss + 1;
        _sndMax = _sndNxt;
        _recover = _iss;
        _sndWnd = 0;
        _maxSndWnd = 0;
        _irs = 0;
        _rcvNxt = 0;
        _tsRecent = 0;
        _timestamps = true;
        _tsOffset = _worker.Isn.TimestampOffset(Key);
        _windowScaleOffered = true;
        _sndShift = 0;
        _rcvShift = ShiftFor(settings.ReceiveBufferSize);
        _sackPermitted = true;
        int ourMss = OurMss(Nic, IsIpv6);
        _advertisedMss = (ushort)Math.Max(64, ourMss);
        _mss = Math.Max(64, Math.Min(ourMss, DefaultMss(IsIpv6)));
        StartCongestionWindow();
        _rtoUs = (long)settings.InitialRto.TotalMicroseconds;
        State = TcpState.SynSent;
        _synSentUs = nowUs;
        SendSyn();
        ArmRto(nowUs);
        Nic.Stats.Add(_worker.Index, StatCounter.TcpActiveOpens);
    }

    /// <summary>The next hop's MAC, once the neighbour cache knows it.</summary>
    internal void LearnPeerMac(MacAddress mac) => PeerMac = mac;

    private void SendSyn() => Emit(_iss, TcpFlags.Syn, 0, 0);

    // RFC 6298 §5.4-5.6 for the SYN: again with the backed-off RTO until Linux's tcp_syn_retries, then ETIMEDOUT.
    private void OnSynTimeout(long nowUs)
    {
        NicStats stats = Nic.Stats;
        int worker = _worker.Index;
        if (_retries > _worker.Settings.SynRetries)
        {
            stats.Add(worker, StatCounter.TcpAbortOnTimeout);
            CloseWith(TimeoutError);
            return;
        }
        stats.Add(worker, StatCounter.TcpTimeouts);
        stats.Add(worker, StatCounter.TcpSynAckRetransmits);
        stats.Add(worker, StatCounter.TcpRetransmits);
        SendSyn();
        ArmRto(nowUs);
    }

    /// <summary>
    /// A segment in SYN-SENT (RFC 9293 §3.10.7.3), in the RFC's order: an ACK of something we never sent is answered with
    /// <c>&lt;SEQ=SEG.ACK&gt;&lt;CTL=RST&gt;</c>; a RST counts only when its ACK covers our SYN (RFC 5961 §3.2), and then the
    /// connection is refused; a SYN-ACK establishes, a SYN alone is a simultaneous open; anything else is dropped.
    /// <paramref name="linkSource"/> becomes the peer's MAC when the SYN-ACK is taken, as a passive open takes the SYN's.
    /// </summary>
    internal void ReceiveInSynSent(ref TcpSegment seg, long nowUs, MacAddress linkSource)
    {
        NicStats stats = Nic.Stats;
        int worker = _worker.Index;
        bool ack = seg.Has(TcpFlags.Ack);
        if (ack && (LessOrEqual(seg.Acknowledgment, _iss) || GreaterThan(seg.Acknowledgment, _sndNxt)))
        {
            stats.Add(worker, StatCounter.TcpOutOfWindow);
            if (!seg.Has(TcpFlags.Rst))
                _worker.SendReset(this, seg.Acknowledgment, 0, TcpFlags.Rst);
            return;
        }
        // PAWS for the handshake (Linux's PAWSActiveRejected): an echoed timestamp that none of our SYNs carried (before
        // the first, or not yet reached) marks an old duplicate. Answered as an unacceptable ACK is; a RST is dropped.
        if (ack && seg.HasTimestamps && seg.TsEcho != 0
            && seg.TsEcho - TimestampNow(_synSentUs) > TimestampNow(nowUs) - TimestampNow(_synSentUs))
        {
            stats.Add(worker, StatCounter.TcpPawsActiveRejected);
            if (!seg.Has(TcpFlags.Rst))
                _worker.SendReset(this, seg.Acknowledgment, 0, TcpFlags.Rst);
            return;
        }
        if (seg.Has(TcpFlags.Rst))
        {
            // Without an ACK a RST cannot be told from a blind attack: dropped, as Linux does.
            if (!ack)
                return;
            stats.Add(worker, StatCounter.TcpResetsReceived);
            stats.Add(worker, StatCounter.TcpConnectionsReset);
            CloseWith(TcpError.ConnectionRefused);
            return;
        }
        if (!seg.Has(TcpFlags.Syn))
            return;

        bool synRetransmitted = _retries > 0;
        int peerMss = seg.MaxSegmentSize != 0 ? seg.MaxSegmentSize : DefaultMss(IsIpv6);
        // What we offered in the SYN and the peer took (RFC 7323 §2.2, §3.2; RFC 2018 §2): each needs both ends.
        Negotiate(seg.Sequence, _iss, seg.Window, peerMss, seg.HasTimestamps, seg.TsValue, seg.WindowScale, seg.SackPermitted);
        _retries = 0;
        _rtoDeadline = 0;
        if (PeerMac.IsZero)
            PeerMac = linkSource;
        if (!ack)
        {
            // Simultaneous open (RFC 9293 Figure 8): SYN-RECEIVED, and our SYN again with the ACK of theirs.
            State = TcpState.SynReceived;
            SendSynAck();
            _synSentUs = -1; // the handshake is not timed (the SYN-ACK is a retransmission of our SYN's sequence number)
            ArmRto(nowUs);
            return;
        }

        _sndUna = seg.Acknowledgment;
        // Linux counts the SYN's octet in bytes_acked when the SYN-ACK acknowledges it.
        _bytesAcked = 1;
        if (!synRetransmitted)
        {
            // The handshake's RTT (RFC 6298 §2.2), from the echoed timestamp when there is one.
            SampleRtt(_timestamps && seg.TsEcho != 0 ? ((long)(uint)(TimestampNow(nowUs) - seg.TsEcho)) * 1000 : nowUs - _synSentUs);
        }
        else
        {
            // RFC 6298 §5.7: a SYN timed out and no sample was taken: 3 s once data flows. RFC 5681 §3.1: the lost SYN
            // leaves an initial window of one segment.
            _rtoUs = Math.Max(_rtoUs, 3_000_000);
            _cwnd = _mss;
        }
        Establish(ref seg);
        // RFC 7323 §2.2: the window of a SYN is never scaled.
        _sndWnd = seg.Window;
        _maxSndWnd = _sndWnd;
        NoteHeardFrom(nowUs);
        if (State == TcpState.Closed)
            return;
        // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, or the first data the application queued, which carries the ACK.
        _ackNow = true;
        AfterInput(nowUs);
    }

    /// <summary>The application's abort (Linux's <c>tcp_disconnect</c>): a RST to a synchronized peer (none from SYN-SENT), then gone.</summary>
    internal void Abort()
    {
        // Linux's tcp_set_state counts a synchronized connection that leaves for CLOSED (Tcp.EstabResets).
        if (State is TcpState.Established or TcpState.CloseWait)
            Nic.Stats.Add(_worker.Index, StatCounter.TcpConnectionsReset);
        if (State is not (TcpState.SynSent or TcpState.Closed or TcpState.TimeWait))
            _worker.SendReset(this, _sndNxt, _rcvNxt, TcpFlags.Rst | TcpFlags.Ack);
        CloseWith(TcpError.Aborted);
    }

    // Linux's tcp_validate_incoming lets the peer's SYN-ACK through in a simultaneous open: it repeats the peer's SYN and
    // ACKs ours exactly, so it completes the handshake rather than drawing a challenge ACK.
    private bool IsSimultaneousSynAck(ref TcpSegment seg) =>
        seg.Has(TcpFlags.Syn) && seg.Has(TcpFlags.Ack) && !seg.Has(TcpFlags.Rst | TcpFlags.Fin)
        && seg.Sequence + 1 == _rcvNxt && seg.Acknowledgment == _sndNxt && seg.Payload.Length == 0;

    private void CompleteSimultaneousOpen(ref TcpSegment seg, long nowUs)
    {
        _sndUna = seg.Acknowledgment;
        _bytesAcked = 1;
        _rtoDeadline = 0;
        _retries = 0;
        Establish(ref seg);
        _sndWnd = seg.Window;
        _maxSndWnd = _sndWnd;
        NoteHeardFrom(nowUs);
        if (State == TcpState.Closed)
            return;
        _ackNow = true;
        AfterInput(nowUs);
    }
}
