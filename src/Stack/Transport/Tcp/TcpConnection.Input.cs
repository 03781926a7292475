using XdpStack.Stack.Wire;
using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// Segment arrival (RFC 9293 §3.10.7.4) for SYN-RECEIVED and the synchronized states, with RFC 5961's
// checks, RFC 7323's PAWS, and the ACK side of congestion control (RFC 5681, RFC 6582).
public sealed partial class TcpConnection
{
    // Send sequence variables (RFC 9293 §3.3.1).
    private uint _iss;
    private uint _sndUna;
    private uint _sndNxt;
    private uint _sndMax;
    private uint _sndWnd;
    private uint _maxSndWnd;
    // Octets the peer has acknowledged on this connection (Linux's bytes_acked), held at uint.MaxValue once there:
    // only its minimum with the largest window matters (RFC 5961 §5.2's bound on old ACKs).
    private uint _bytesAcked;
    private uint _sndWl1;
    private uint _sndWl2;
    private int _sndShift;
    private int _mss;

    // Receive sequence variables.
    private uint _irs;
    private uint _rcvNxt;
    private int _rcvShift;
    private uint _lastAdvertised;
    // RCV.NXT as our last segment acknowledged it (Linux's rcv_wup): the left edge of the window the peer knows.
    private uint _rcvWup;

    private bool _timestamps;
    private uint _tsRecent;
    private uint _tsOffset;
    private bool _sackPermitted;

    private bool _finQueued;
    private bool _finAcked;

    // Set by an ACK that freed send buffer: the application may have more to write.
    private bool _sendSpaceFreed;

    // Bytes received in order since our last ACK: a second full segment is ACKed at once.
    private int _unackedBytes;
    private bool _ackNow;
    // New in-order data asked for an immediate ACK (quick-ACK mode, a second full segment, a filled hole): it leaves
    // before the application sees the data, as Linux sends it from the receive path before the reader wakes.
    private bool _dataAckNow;
    private ushort _ipId;

    // When an ACK last answered a segment that was not taken (Linux's last_oow_ack_time and
    // net.ipv4.tcp_invalid_ratelimit): such ACKs, challenge ACKs among them, go out at most once per 500 ms.
    private const long InvalidAckIntervalUs = 500_000;
    private long _lastInvalidAckUs;

    internal ushort NextIpId() => _ipId++;

    internal void Initialize(TcpWorker worker, TcpListener? listener, ITcpApplication? application, Nic nic, in TcpFlowKey key, bool ipv6, MacAddress peerMac)
    {
        _worker = worker;
        _listener = listener;
        _application = application;
        ApplicationObject = null;
        CloseError = TcpError.None;
        _softError = TcpError.None;
        _pathMtu = 0;
        NextHop = default;
        Nic = nic;
        Key = key;
        IsIpv6 = ipv6;
        PeerMac = peerMac;
        State = TcpState.Closed;
        ApplicationState = 0;
        ApplicationState2 = 0;
        Orphaned = false;
        PeerClosed = false;
        _finQueued = false;
        _finAcked = false;
        _oooCount = 0;
        _oooFin = false;
        ResetQuickAck();
        _unackedBytes = 0;
        _ackNow = false;
        _dataAckNow = false;
        _dupAcks = 0;
        _inRecovery = false;
        _retries = 0;
        _srtt8Us = 0;
        _mdevUs = 0;
        _mdevMaxUs = 0;
        _rttvarUs = 0;
        _rttTiming = false;
        _rtoDeadline = 0;
        _delayedAckDeadline = 0;
        _closeDeadline = 0;
        _keepAliveDeadline = 0;
        _keepAliveProbes = 0;
        ResetPersist();
        ResetLossProbe();
        ResetRack();
        ResetUndo();
        _lastInvalidAckUs = -1;
        ResetSack();
        ResetEcn(false);
        ResetCongestionControl(listener?.CongestionControl ?? worker.Settings.CongestionControl);
        _ipId = (ushort)worker.Random();
        if (_ooo.Length != worker.Settings.OutOfOrderRanges)
            _ooo = new OutOfOrderRange[worker.Settings.OutOfOrderRanges];
    }

    /// <summary>A SYN to a listener (RFC 9293 §3.10.7.2): negotiates the options and answers with SYN-ACK.</summary>
    internal void AcceptSyn(ref TcpSegment syn, long nowUs)
    {
        int peerMss = syn.MaxSegmentSize != 0 ? syn.MaxSegmentSize : DefaultMss(IsIpv6);
        uint iss = _worker.TimeWaitIsn != 0 ? _worker.TimeWaitIsn : _worker.Isn.Generate(Key, TimeSpan.FromTicks(nowUs * 10));
        Negotiate(syn.Sequence, iss, syn.Window, peerMss,
            syn.HasTimestamps, syn.TsValue, syn.WindowScale, syn.SackPermitted);
        ResetEcn(SynRequestsEcn(ref syn));
        State = TcpState.SynReceived;
        SendSynAck();
        _synSentUs = nowUs;
        ArmRto(nowUs);
    }

    /// <summary>
    /// The ACK of a cookie handshake (<see cref="TcpSynCookie"/>): what <see cref="AcceptSyn"/> would have negotiated,
    /// rebuilt from the cookie (the MSS) and the echoed timestamp (window scale, SACK, ECN), then ESTABLISHED at once.
    /// The caller processes the segment itself next.
    /// </summary>
    internal void AcceptCookie(ref TcpSegment ack, int cookieMss, int peerWindowScale, bool sackPermitted, bool ecn, long nowUs)
    {
        bool timestamps = ack.HasTimestamps;
        Negotiate(ack.Sequence - 1, ack.Acknowledgment - 1, ack.Window, cookieMss, timestamps, ack.TsValue,
            timestamps ? peerWindowScale : -1, timestamps && sackPermitted);
        ResetEcn(timestamps && ecn);
        // The SYN is acknowledged by this very segment; its data and window are processed next.
        _sndUna = ack.Acknowledgment;
        // No state recorded when the SYN-ACK left: the RTT comes from the echoed cookie TSval, which may lag the
        // clock by up to 63 ms (as in Linux, where a cookie request has no snt_synack).
        if (timestamps && ack.TsEcho != 0)
            SampleRtt(((long)(uint)(TimestampNow(nowUs) - ack.TsEcho)) * 1000);
        // What the cookie SYN-ACK advertised (unscaled, as in any SYN), or the first segment would look like a window update.
        _lastAdvertised = SynWindow(_worker.Settings.ReceiveBufferSize, _advertisedMss, timestamps);
        Establish(ref ack);
    }

    private void Negotiate(uint peerIsn, uint iss, ushort window, int peerMss, bool timestamps, uint tsValue, int peerWindowScale, bool sackPermitted)
    {
        TcpSettings settings = _worker.Settings;
        _irs = peerIsn;
        _rcvNxt = peerIsn + 1;
        _rcvWup = _rcvNxt;
        _iss = iss;
        _sndUna = _iss;
        _sndNxt = _iss + 1;
        _sndMax = _sndNxt;
        _pushedSequence = _sndNxt;
        _recover = _iss;
        // RFC 9293 §3.10.7.2: SND.WND from the SYN, never scaled (RFC 7323 §2.2).
        _sndWnd = window;
        _maxSndWnd = _sndWnd;
        _sndWl1 = peerIsn;
        _sndWl2 = _iss;
        _bytesAcked = 0;
        int ourMss = OurMss(Nic, IsIpv6);
        _timestamps = timestamps;
        // Without timestamps TS.Recent stays 0: a SYN in TIME_WAIT with any timestamp is then newer, as in Linux.
        _tsRecent = _timestamps ? tsValue : 0;
        if (_timestamps)
            _tsOffset = _worker.Isn.TimestampOffset(Key);
        _mss = Math.Max(64, Math.Min(ourMss, peerMss) - (_timestamps ? 12 : 0));
        ClampMssToPath();
        _advertisedMss = (ushort)Math.Max(64, ourMss);
        _windowScaleOffered = peerWindowScale >= 0;
        if (_windowScaleOffered)
        {
            _sndShift = peerWindowScale;
            _rcvShift = ShiftFor(settings.ReceiveBufferSize);
        }
        else
        {
            _sndShift = 0;
            _rcvShift = 0;
        }
        _sackPermitted = sackPermitted;
        StartCongestionWindow();
        _rtoUs = (long)settings.InitialRto.TotalMicroseconds;
    }

    /// <summary>The MSS we announce on <paramref name="nic"/>: its MTU less the IP and TCP headers.</summary>
    internal static int OurMss(Nic nic, bool ipv6) =>
        nic.Link.Mtu - (ipv6 ? Ipv6Packet.HeaderLength : Ipv4Packet.MinHeaderLength) - TcpPacket.MinHeaderLength;

    /// <summary>RFC 9293 §3.7.1: the MSS assumed when the peer sent none.</summary>
    internal static int DefaultMss(bool ipv6) => ipv6 ? 1220 : 536;

    // The smallest shift that lets the 16-bit field describe the whole buffer.
    internal static int ShiftFor(int buffer)
    {
        int shift = 0;
        while (shift < 14 && (buffer >> shift) > ushort.MaxValue)
            shift++;
        return shift;
    }

    // RFC 6928: min(10 × MSS, max(2 × MSS, 14600)), as Linux's TCP_INIT_CWND of 10.
    private int InitialWindow() => Math.Min(10 * _mss, Math.Max(2 * _mss, 14600));

    /// <summary>Handles a segment of this connection. False when a SYN ended a TIME_WAIT and must be handed to the listener as a new connection.</summary>
    internal bool Receive(ref TcpSegment seg, long nowUs)
    {
        NicStats stats = Nic.Stats;
        int worker = _worker.Index;
        if (State == TcpState.TimeWait)
            return ReceiveInTimeWait(ref seg, nowUs);

        if (State == TcpState.SynReceived && _listener is null && IsSimultaneousSynAck(ref seg))
        {
            CompleteSimultaneousOpen(ref seg, nowUs);
            return true;
        }

        if (State == TcpState.SynReceived && _listener is not null && !AdmitToHalfOpen(ref seg, nowUs))
            return true;

        // RFC 7323 §5.3 (PAWS): a timestamp older than TS.Recent marks an old duplicate.
        if (_timestamps && seg.HasTimestamps && !seg.Has(TcpFlags.Rst) && LessThan(seg.TsValue, _tsRecent))
        {
            stats.Add(worker, StatCounter.TcpPawsDrops);
            AnswerUntakenSegment(ref seg, nowUs);
            return true;
        }

        if (!IsAcceptable(ref seg))
        {
            if (IsResetAfterPeerFin(ref seg))
            {
                stats.Add(worker, StatCounter.TcpResetsReceived);
                stats.Add(worker, StatCounter.TcpConnectionsReset);
                CloseWith(TcpError.ConnectionReset);
                return true;
            }
            stats.Add(worker, StatCounter.TcpOutOfWindow);
            if (!seg.Has(TcpFlags.Rst))
                AnswerUntakenSegment(ref seg, nowUs);
            return true;
        }

        if (seg.Has(TcpFlags.Rst))
        {
            // RFC 5961 §3.2: only an exact RST resets; one merely in the window gets a challenge ACK.
            if (seg.Sequence == _rcvNxt)
            {
                stats.Add(worker, StatCounter.TcpResetsReceived);
                stats.Add(worker, StatCounter.TcpConnectionsReset);
                // RFC 9293 §3.10.7.4: a RST in SYN-RECEIVED of an active open is "connection refused"; else "reset".
                CloseWith(State == TcpState.SynReceived && _listener is null ? TcpError.ConnectionRefused : TcpError.ConnectionReset);
            }
            else
            {
                SendChallengeAck(nowUs);
            }
            return true;
        }

        if (seg.Has(TcpFlags.Syn))
        {
            // RFC 5961 §4.2: a SYN in a synchronized state (or a new one in SYN-RECEIVED) is answered with a challenge ACK.
            SendChallengeAck(nowUs);
            return true;
        }

        if (!seg.Has(TcpFlags.Ack))
            return true;

        if (State == TcpState.SynReceived)
        {
            if (!(GreaterThan(seg.Acknowledgment, _sndUna) && LessOrEqual(seg.Acknowledgment, _sndNxt)))
            {
                // RFC 9293 §3.10.7.4: an unacceptable ACK in SYN-RECEIVED is answered with <SEQ=SEG.ACK><CTL=RST>.
                _worker.SendReset(this, seg.Acknowledgment, 0, TcpFlags.Rst);
                return true;
            }
            if (_listener is not null)
                _listener.HalfOpen(_worker.Index)--;
            // The handshake's RTT from the SYN-ACK, by the clock, unless it was sent more than once; then from the
            // echoed timestamp if there is one (Linux's tcp_synack_rtt_meas and tcp_ack_update_rtt). Without it the
            // first data would wait the initial 1 s RTO.
            if (_synSentUs >= 0)
                SampleRtt(nowUs - _synSentUs);
            else if (_timestamps && seg.HasTimestamps && seg.TsEcho != 0)
                SampleRtt(((long)(uint)(TimestampNow(nowUs) - seg.TsEcho)) * 1000);
            Establish(ref seg);
        }

        NoteHeardFrom(nowUs);
        _sendSpaceFreed = false;
        if (!ProcessAck(ref seg, nowUs))
            return true;
        if (State == TcpState.Closed)
            return true;
        if (Orphaned && seg.Payload.Length > 0 && State is TcpState.FinWait1 or TcpState.FinWait2
            && GreaterThan(seg.Sequence + (uint)seg.Payload.Length, _rcvNxt))
        {
            // New data for an application that closed (Linux's tcp_rcv_state_process, RFC 1122 §4.2.2.13): nobody will
            // read it, so the peer hears at once, <SEQ=SEG.ACK><CTL=RST>, and the connection ends.
            stats.Add(worker, StatCounter.TcpAbortOnData);
            _worker.SendReset(this, seg.Acknowledgment, 0, TcpFlags.Rst);
            CloseWith(TcpError.Aborted);
            return true;
        }

        bool delivered = ProcessData(ref seg, nowUs);
        if (_dataAckNow)
        {
            _dataAckNow = false;
            if (_application is not null)
                SendAck();
        }
        if (delivered || _sendSpaceFreed)
            _application?.OnReceive(this);
        AfterInput(nowUs);
        return true;
    }

    /// <summary>
    /// A passive open's SYN-RECEIVED, as Linux's tcp_check_req judges a segment for a request, in its order; true
    /// when it goes on to the usual processing (an acceptable ACK that completes the handshake).
    /// </summary>
    /// <remarks>
    /// A repeated SYN gets the SYN-ACK again and restarts its timer. An ACK of anything but our SYN draws
    /// &lt;SEQ=SEG.ACK&gt;&lt;CTL=RST&gt;. Outside the window (or refused by PAWS) a segment gets an ACK, at most one every
    /// 500 ms. In the window, a RST drops the half-open connection quietly and a new SYN drops it with a reset (RFC
    /// 5961's challenge ACKs are for synchronized states; Linux keeps no more for a request than this).
    /// </remarks>
    private bool AdmitToHalfOpen(ref TcpSegment seg, long nowUs)
    {
        NicStats stats = Nic.Stats;
        int worker = _worker.Index;
        TcpFlags flags = seg.Flags & (TcpFlags.Rst | TcpFlags.Syn | TcpFlags.Ack);
        bool pawsReject = _timestamps && seg.HasTimestamps && (flags & TcpFlags.Rst) == 0 && LessThan(seg.TsValue, _tsRecent);
        if (seg.Sequence == _irs && flags == TcpFlags.Syn && !pawsReject)
        {
            // The peer did not get our SYN-ACK: again now, and its timer from now.
            if (!InvalidAckLimited(nowUs))
            {
                stats.Add(worker, StatCounter.TcpSynAckRetransmits);
                SendSynAck();
                _synSentUs = -1;
                ArmRto(nowUs);
            }
            return false;
        }
        if ((flags & TcpFlags.Ack) != 0 && seg.Acknowledgment != _iss + 1)
        {
            if ((flags & TcpFlags.Rst) == 0)
                _worker.SendReset(this, seg.Acknowledgment, 0, TcpFlags.Rst);
            return false;
        }
        if (pawsReject || !InHalfOpenWindow(ref seg))
        {
            stats.Add(worker, pawsReject ? StatCounter.TcpPawsDrops : StatCounter.TcpOutOfWindow);
            if ((flags & TcpFlags.Rst) == 0 && !InvalidAckLimited(nowUs))
                SendAck();
            return false;
        }
        // The peer's own SYN again, with more on it, is not a new SYN.
        bool newSyn = (flags & TcpFlags.Syn) != 0 && seg.Sequence != _irs;
        if ((flags & TcpFlags.Rst) != 0 || newSyn)
        {
            if ((flags & TcpFlags.Rst) == 0)
                _worker.SendReset(this, 0, seg.Sequence + seg.Length, TcpFlags.Rst | TcpFlags.Ack);
            else
                stats.Add(worker, StatCounter.TcpResetsReceived);
            stats.Add(worker, StatCounter.TcpConnectionsReset);
            Release();
            return false;
        }
        return (flags & TcpFlags.Ack) != 0;
    }

    // Linux's tcp_in_window against the window the SYN-ACK offered.
    private bool InHalfOpenWindow(ref TcpSegment seg)
    {
        uint end = seg.Sequence + seg.Length;
        uint windowEnd = _rcvNxt + ReceiveWindow();
        if (seg.Sequence == _rcvNxt)
            return true;
        if (GreaterThan(end, _rcvNxt) && LessThan(seg.Sequence, windowEnd))
            return true;
        return seg.Sequence == windowEnd && seg.Sequence == end;
    }

    // A segment that failed PAWS or the window test (Linux's tcp_validate_incoming): a SYN draws a challenge ACK; one
    // with data or a FIN is ACKed at once, with a D-SACK for what it repeats; a bare ACK is ACKed at most every
    // 500 ms, so two ends that disagree about the window cannot ping-pong ACKs forever.
    private void AnswerUntakenSegment(ref TcpSegment seg, long nowUs)
    {
        if (seg.Has(TcpFlags.Syn))
        {
            SendChallengeAck(nowUs);
            return;
        }
        if (seg.Length == 0 && InvalidAckLimited(nowUs))
            return;
        NoteOldSegment(ref seg);
        SendAck();
    }

    // Linux's __tcp_oow_rate_limited: true when such an ACK went out less than 500 ms ago; else notes this one.
    private bool InvalidAckLimited(long nowUs)
    {
        if (_lastInvalidAckUs >= 0 && nowUs - _lastInvalidAckUs < InvalidAckIntervalUs)
            return true;
        _lastInvalidAckUs = nowUs;
        return false;
    }

    // The acceptability test of a segment's sequence numbers as Linux's tcp_sequence runs it (RFC 9293 §3.10.7.4 in
    // spirit): not wholly before the left edge the peer knows (a retransmission that ends there is taken for its ACK
    // and timestamp, then ACKed as a duplicate), and not starting past the right edge; one that reaches past the
    // right edge only while nothing waits unread.
    private bool IsAcceptable(ref TcpSegment seg)
    {
        uint end = seg.Sequence + seg.Length;
        if (LessThan(end, _rcvWup))
            return false;
        uint rightEdge = _rcvNxt + ReceiveWindow();
        if (GreaterThan(end, rightEdge))
        {
            if (GreaterThan(seg.Sequence, rightEdge))
                return false;
            if (_rx is not null && _rx.Count > 0)
                return false;
        }
        return true;
    }

    // Linux's tcp_reset_check: after the peer's FIN, its RST may carry the FIN's own sequence number.
    private bool IsResetAfterPeerFin(ref TcpSegment seg) =>
        seg.Has(TcpFlags.Rst) && seg.Sequence == _rcvNxt - 1 && State is TcpState.CloseWait or TcpState.LastAck or TcpState.Closing;

    private void Establish(ref TcpSegment seg)
    {
        State = TcpState.Established;
        _rx = _worker.RentReceiveRing();
        _tx = _worker.RentSendRing();
        _sndWl1 = seg.Sequence;
        _sndWl2 = seg.Acknowledgment;
        _sndWnd = (uint)seg.Window << _sndShift;
        _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
        Nic.Stats.Add(_worker.Index, StatCounter.TcpEstablished);
        _application?.OnEstablished(this);
    }

    // The ACK field (RFC 9293 §3.10.7.4, fifth check; RFC 5961 §5). False when the segment is done with.
    private bool ProcessAck(ref TcpSegment seg, long nowUs)
    {
        uint ack = seg.Acknowledgment;
        // SND.MAX, not SND.NXT: a timeout rewinds SND.NXT to SND.UNA (go-back-N), and the peer may still ACK what
        // went out before it (Linux never rewinds snd_nxt, so its after(ack, snd_nxt) is the same test). "Too old" is
        // below SND.UNA by more than the largest window the peer offered or all it has acknowledged, whichever is
        // less (Linux's tcp_ack): on a connection that has sent nothing yet, any ACK below SND.UNA.
        if (GreaterThan(ack, _sndMax) || LessThan(ack, _sndUna - Math.Min(_maxSndWnd, _bytesAcked)))
        {
            // RFC 5961 §5.2: an ACK of data never sent, or far too old, draws a challenge ACK and is dropped.
            SendChallengeAck(nowUs);
            return false;
        }
        bool nothingWasInFlight = _sndMax == _sndUna;
        // RFC 7323 §4.3: TS.Recent follows the segment that covers the left edge of the window the peer knows, once
        // its ACK is known to be neither of data never sent nor older than SND.UNA (Linux's tcp_replace_ts_recent
        // from tcp_ack).
        if (_timestamps && seg.HasTimestamps && LessOrEqual(seg.Sequence, _rcvWup) && GreaterOrEqual(ack, _sndUna))
            _tsRecent = seg.TsValue;
        uint window = (uint)seg.Window << _sndShift;
        uint sndUnaBefore = _sndUna;
        bool wasSackRecovery = _sackRecovery;
        uint lostBefore = wasSackRecovery ? LostBoundary() : 0;
        long sackedBefore = _sackedCount > 0 ? SackedOctets() : 0;
        if (_sackPermitted && seg.Sack.Count > 0)
        {
            TakeDsack(ref seg, ack);
            TakeSackBlocks(ref seg, ack);
        }
        if (_lossProbeOut)
            ProcessLossProbeAck(ref seg, ack, GreaterThan(ack, _sndUna), SackedOctets() > sackedBefore);
        if (seg.Has(TcpFlags.Ece) && GreaterOrEqual(ack, _sndUna))
            OnEcnEcho();
        if (GreaterThan(ack, _sndUna))
        {
            OnNewAck(ref seg, ack, nowUs);
        }
        else if (ack == _sndUna && seg.Payload.Length == 0 && !seg.Has(TcpFlags.Fin) && window == _sndWnd && _sndMax != _sndUna)
        {
            OnDuplicateAck(nowUs);
        }
        // RFC 6675 §5 (3): the scoreboard alone may show SND.UNA's segment lost before three duplicate ACKs came.
        if (!_inRecovery && _sackedCount > 0 && _sndMax != _sndUna && GreaterThan(LostBoundary(), _sndUna) && GreaterThan(_sndUna, _recover))
            EnterRecovery(nowUs);
        // RFC 8985 §6.2: fewer SACKed segments than that still call the hole lost once the reordering window passes.
        if (_sackedCount > 0)
            CheckReorderWindow(nowUs, newlyDelivered: DeliveredOctets(sndUnaBefore, sackedBefore) > 0);
        if (InWindowReduction)
        {
            // Linux's tcp_cong_control, then tcp_xmit_recovery: PRR sets cwnd from what this ACK delivered, then the
            // lost holes go again and new data follows (RFC 6675 §5 (C), NextSeg).
            bool newlyLost = _sackRecovery && (!wasSackRecovery || GreaterThan(LostBoundary(), lostBefore));
            ReduceWindowProportionally(DeliveredOctets(sndUnaBefore, sackedBefore), GreaterThan(_sndUna, sndUnaBefore), newlyLost);
            if (_sackRecovery)
                SackTransmit(nowUs);
        }
        TryUndo();
        if (LessThan(_sndWl1, seg.Sequence) || (_sndWl1 == seg.Sequence && LessOrEqual(_sndWl2, ack)))
        {
            _sndWnd = window;
            _maxSndWnd = Math.Max(_maxSndWnd, window);
            _sndWl1 = seg.Sequence;
            _sndWl2 = ack;
        }
        NoteAckForProbes(nothingWasInFlight, nowUs);
        return true;
    }

    private void OnNewAck(ref TcpSegment seg, uint ack, long nowUs)
    {
        uint sndUnaBefore = _sndUna;
        int acked = (int)(ack - _sndUna);
        bool synAcked = _sndUna == _iss;
        // Linux's tcp_clean_rtx_queue: the ACK covers a hole below SACKed data that was never sent twice: reordering.
        if (!_reorderSeen && _sackedCount > 0 && (_sackRecovery || GreaterOrEqual(_sndUna, _recover)))
        {
            uint from = _sackRecovery && GreaterThan(_highRxt, _sndUna) ? _highRxt : _sndUna;
            uint highestSacked = _sackedEnd[_sackedCount - 1];
            if (HasHole(from, LessThan(ack, highestSacked) ? ack : highestSacked))
                _reorderSeen = true;
        }
        int dataAcked = Math.Min(acked, _tx?.Count ?? 0);
        bool finAcked = _finQueued && !_finAcked && ack == FinSequence + 1;
        _finAcked |= finAcked;
        _tx?.Consume(dataAcked);
        _sendSpaceFreed = dataAcked > 0;
        // Linux's bytes_acked leaves out the SYN of a passive open (its child socket starts at SND.UNA = ISS + 1).
        _bytesAcked = (uint)Math.Min(uint.MaxValue, (long)_bytesAcked + (synAcked && _listener is not null ? acked - 1 : acked));
        _sndUna = ack;
        if (LessThan(_sndNxt, _sndUna))
            _sndNxt = _sndUna;
        TrimScoreboard();

        // RTT (RFC 6298 §3, RFC 7323 §4.1): from the echoed timestamp, else from the one timed segment (Karn). The ACK
        // of a passive open's SYN-ACK was timed already, by the clock.
        if (!synAcked)
        {
            if (_timestamps && seg.HasTimestamps && seg.TsEcho != 0)
                SampleRtt(((long)(uint)(TimestampNow(nowUs) - seg.TsEcho)) * 1000);
            else if (_rttTiming && GreaterOrEqual(ack, _rttSequence))
                SampleRtt(nowUs - _rttStartUs);
        }
        if (_rttTiming && GreaterOrEqual(ack, _rttSequence))
            _rttTiming = false;
        _retries = 0;
        TryUndoLoss(ref seg, sndUnaBefore);

        // NewReno (RFC 6582 §3.2), or RFC 6675's recovery when it began with SACK information.
        if (_inRecovery)
        {
            if (GreaterOrEqual(ack, _recover))
            {
                // Linux's tcp_end_cwnd_reduction: the recovery ends with cwnd at ssthresh.
                _inRecovery = false;
                _sackRecovery = false;
                NoteRecoveryEnded();
                _cwnd = Math.Max(_ssthresh, _mss);
            }
            else if (!_sackRecovery)
            {
                // A partial ACK: the next hole is lost too.
                Retransmit();
                _cwnd = Math.Max(_mss, _cwnd - dataAcked + _mss);
            }
        }
        else if (_ecnReducing)
        {
            EndEcnReductionIfDone();
        }
        else
        {
            GrowCongestionWindow(dataAcked, nowUs);
        }
        _dupAcks = 0;

        if (_sndUna == _sndNxt)
        {
            _rtoDeadline = 0;
        }
        else
        {
            ArmRto(nowUs);
            ScheduleLossProbe(nowUs);
        }

        if (finAcked)
        {
            switch (State)
            {
                case TcpState.FinWait1:
                    State = TcpState.FinWait2;
                    // Linux's tcp_fin_timeout holds only an orphan: after shutdown() the application may wait for the
                    // peer's FIN as long as it likes (tcp_rcv_state_process, FIN_WAIT1 with SOCK_DEAD unset).
                    if (Orphaned)
                        SetCloseDeadline(nowUs);
                    break;
                case TcpState.Closing:
                    EnterTimeWait(nowUs);
                    break;
                case TcpState.LastAck:
                    Release();
                    break;
            }
        }
    }

    private void OnDuplicateAck(long nowUs)
    {
        _dupAcks++;
        // In a SACK recovery, what this ACK lets out is sent once it is wholly taken (ProcessAck).
        if (_sackRecovery)
            return;
        if (_dupAcks == 3 && !_inRecovery && GreaterThan(_sndUna, _recover))
        {
            EnterRecovery(nowUs);
        }
        else if (_dupAcks > 3 && _inRecovery)
        {
            _cwnd += _mss;
        }
    }

    // RFC 5681 §3.2 and RFC 6582 §3.2 step 2; with SACK information at hand, RFC 6675 §5 instead.
    private void EnterRecovery(long nowUs)
    {
        ArmUndo(ssthreshAlreadyCut: _ecnReducing);
        // From an ECN echo's reduction PRR goes on counting (tcp_enter_recovery from the CWR state).
        if (!_ecnReducing)
            StartWindowReduction();
        // A window already cut for an ECE is not cut again (Linux's tcp_enter_recovery from the CWR state).
        if (!_ecnReducing)
            _ssthresh = SlowStartThresholdAfterLoss();
        _ecnReducing = false;
        QueueCongestionWindowReduced();
        _recover = _sndMax;
        _inRecovery = true;
        _lossProbeOut = false;
        // No probe in recovery: the deadline is the retransmission timer's, from now (Linux's tcp_xmit_retransmit_queue
        // restarts it with the first retransmission).
        if (_lossProbeTimer)
            ArmRto(nowUs);
        Nic.Stats.Add(_worker.Index, StatCounter.TcpFastRetransmits);
        if (_sackPermitted && _sackedCount > 0)
        {
            Nic.Stats.Add(_worker.Index, StatCounter.TcpSackRecoveries);
            EnterSackRecovery();
            return;
        }
        Retransmit();
        _cwnd = _ssthresh + (3 * _mss);
    }

    // The segment's text and FIN (RFC 9293 §3.10.7.4, seventh and eighth checks). True when new data became readable or the peer closed.
    private bool ProcessData(ref TcpSegment seg, long nowUs)
    {
        uint length = seg.Length;
        if (length > 0 && LessOrEqual(seg.Sequence + length, _rcvNxt))
        {
            // Wholly old, a retransmission that reached the left edge (or a FIN again): as Linux's tcp_data_queue, a
            // duplicate ACK at once with a D-SACK, and quick-ACK mode.
            NoteOldSegment(ref seg);
            _ackNow = true;
            return false;
        }
        if (State is not (TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2))
            return false;
        Span<byte> payload = seg.Payload;
        uint sequence = seg.Sequence;
        bool fin = seg.Has(TcpFlags.Fin);
        if (payload.Length > 0 || fin)
        {
            // Linux's tcp_data_queue: the peer's CWR, and a D-SACK still waiting is given up for what this one brings.
            AcceptCongestionWindowReduced(ref seg);
            _dsack = false;
        }
        if (LessThan(sequence, _rcvNxt))
        {
            // Part of it arrived before: D-SACK that part (the rest is new, or the window test would have refused it).
            NoteDuplicate(sequence, _rcvNxt);
            uint skip = _rcvNxt - sequence;
            if (skip > payload.Length)
            {
                // Only the FIN (or nothing) is new.
                skip = (uint)payload.Length;
            }
            payload = payload[(int)skip..];
            sequence += skip;
        }
        if (sequence != _rcvNxt && LessThan(sequence, _rcvNxt))
            return false;
        TcpByteRing rx = _rx!;
        int offset = (int)(sequence - _rcvNxt);
        int room = rx.Free - offset;
        if (room <= 0)
        {
            if (payload.Length > 0 || fin)
                _ackNow = true;
            return false;
        }
        if (payload.Length > room)
        {
            payload = payload[..room];
            fin = false;
        }
        bool delivered = false;
        if (offset == 0)
        {
            if (payload.Length > 0)
            {
                CheckCongestionExperienced(ref seg);
                rx.WriteAt(rx.Count, payload);
                rx.Commit(payload.Length);
                _rcvNxt += (uint)payload.Length;
                Nic.Stats.Add(_worker.Index, StatCounter.TcpBytesReceived, payload.Length);
                delivered = true;
                bool filledHole = _oooCount > 0;
                MergeOutOfOrder(rx);
                _unackedBytes += payload.Length;
                NoteDataReceived(nowUs);
                // Linux ACKs at once when a hole fills, for every second full-sized segment, and in quick-ACK mode.
                if (filledHole || _unackedBytes >= 2 * _mss || InQuickAckMode)
                {
                    _ackNow = true;
                    _dataAckNow = true;
                }
                else
                    ScheduleDelayedAck(nowUs);
            }
            if ((fin && sequence + (uint)payload.Length == _rcvNxt) || (_oooFin && _rcvNxt == _oooFinSequence))
            {
                _oooFin = false;
                _rcvNxt++;
                PeerClosed = true;
                delivered = true;
                _ackNow = true;
                // Linux enters ping-pong mode on a FIN: the ACK waits to ride on the application's answer and FIN
                // (unless a CWR demanded it now).
                if (!(_ecn && seg.Has(TcpFlags.Cwr)))
                    _dataAckNow = false;
                OnFin(nowUs);
            }
        }
        else if (payload.Length > 0 || fin)
        {
            bool kept = true;
            if (payload.Length > 0)
            {
                CheckCongestionExperienced(ref seg);
                NoteOutOfOrderDuplicate(sequence, sequence + (uint)payload.Length);
                kept = AddOutOfOrder(sequence, sequence + (uint)payload.Length);
                if (kept)
                {
                    rx.WriteAt(rx.Count + offset, payload);
                    Nic.Stats.Add(_worker.Index, StatCounter.TcpOutOfOrderQueued);
                }
                else
                {
                    Nic.Stats.Add(_worker.Index, StatCounter.TcpOutOfOrderDrops);
                }
            }
            // The FIN waits with the data before it, as in Linux's out-of-order queue; the first one seen stands.
            if (fin && kept && !_oooFin)
            {
                _oooFin = true;
                _oooFinSequence = sequence + (uint)payload.Length;
            }
            // RFC 5681 §4.2: an out-of-order segment is ACKed at once (a duplicate ACK).
            _ackNow = true;
        }
        return delivered;
    }

    private void OnFin(long nowUs)
    {
        switch (State)
        {
            case TcpState.Established:
                State = TcpState.CloseWait;
                break;
            case TcpState.FinWait1:
                // Our FIN not yet ACKed: both closed at once (RFC 9293 §3.6, simultaneous close).
                State = TcpState.Closing;
                break;
            case TcpState.FinWait2:
                SendAck();
                EnterTimeWait(nowUs);
                break;
        }
    }

    private bool AddOutOfOrder(uint start, uint end)
    {
        // Merge with every range it touches; insert in order otherwise.
        int i = 0;
        while (i < _oooCount && LessThan(_ooo[i].End, start))
            i++;
        if (i < _oooCount && LessOrEqual(_ooo[i].Start, end))
        {
            if (LessThan(start, _ooo[i].Start))
                _ooo[i].Start = start;
            if (GreaterThan(end, _ooo[i].End))
                _ooo[i].End = end;
            _ooo[i].Stamp = ++_oooClock;
            // The grown range may now reach the ones after it.
            while (i + 1 < _oooCount && LessOrEqual(_ooo[i + 1].Start, _ooo[i].End))
            {
                if (GreaterThan(_ooo[i + 1].End, _ooo[i].End))
                    _ooo[i].End = _ooo[i + 1].End;
                RemoveRange(i + 1);
            }
            return true;
        }
        if (_oooCount == _ooo.Length)
            return false;
        for (int j = _oooCount; j > i; j--)
            _ooo[j] = _ooo[j - 1];
        _ooo[i] = new OutOfOrderRange { Start = start, End = end, Stamp = ++_oooClock };
        _oooCount++;
        return true;
    }

    private void MergeOutOfOrder(TcpByteRing rx)
    {
        while (_oooCount > 0 && LessOrEqual(_ooo[0].Start, _rcvNxt))
        {
            if (GreaterThan(_ooo[0].End, _rcvNxt))
            {
                int n = (int)(_ooo[0].End - _rcvNxt);
                rx.Commit(n);
                _rcvNxt = _ooo[0].End;
                Nic.Stats.Add(_worker.Index, StatCounter.TcpBytesReceived, n);
            }
            RemoveRange(0);
        }
    }

    private void RemoveRange(int index)
    {
        for (int j = index; j < _oooCount - 1; j++)
            _ooo[j] = _ooo[j + 1];
        _oooCount--;
    }

    // Linux's tcp_timewait_state_process, with RFC 1337 on (Linux's net.ipv4.tcp_rfc1337 is off by default; the
    // issue asks for RFC 1337).
    private bool ReceiveInTimeWait(ref TcpSegment seg, long nowUs)
    {
        if (seg.Has(TcpFlags.Rst))
        {
            // RFC 1337: a RST must not cut TIME_WAIT short, or an old duplicate could assassinate it.
            Nic.Stats.Add(_worker.Index, StatCounter.TcpTimeWaitResetsIgnored);
            return true;
        }
        bool pawsReject = _timestamps && seg.HasTimestamps && LessThan(seg.TsValue, _tsRecent);
        if (pawsReject)
            Nic.Stats.Add(_worker.Index, StatCounter.TcpPawsDrops);
        if (!pawsReject && seg.Sequence == _rcvNxt && seg.Length == 0)
        {
            // A bare ACK at the window's edge: the peer is still there; 2 MSL start again, nothing is sent.
            SetCloseDeadline(nowUs);
            return true;
        }
        if (seg.Has(TcpFlags.Syn) && !seg.Has(TcpFlags.Ack) && !pawsReject
            && (GreaterThan(seg.Sequence, _rcvNxt) || (seg.HasTimestamps && GreaterThan(seg.TsValue, _tsRecent))))
        {
            // RFC 6191: a SYN above the old sequence space, or with a newer timestamp, opens a new incarnation at
            // once, its ISN above all the old one sent.
            uint isn = _sndNxt + 65535 + 2;
            Release();
            _worker.TimeWaitIsn = isn == 0 ? 1 : isn;
            return false;
        }
        // Anything else is ACKed (a retransmitted FIN: the peer lost our last ACK), at most every 500 ms unless it
        // carries data; one with an ACK, or refused by PAWS, starts 2 MSL again. An old SYN without an ACK may be a
        // new connection's with a random ISN below ours: it does not keep TIME_WAIT alive.
        if (pawsReject || seg.Has(TcpFlags.Ack))
            SetCloseDeadline(nowUs);
        if ((seg.Payload.Length == 0 || seg.Has(TcpFlags.Syn)) && !seg.Has(TcpFlags.Fin) && InvalidAckLimited(nowUs))
            return true;
        SendAck();
        return true;
    }
}
