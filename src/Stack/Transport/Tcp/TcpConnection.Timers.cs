using XdpStack.Stack.Wire;
using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// Retransmission (RFC 6298), delayed ACK, and the close timers (TIME_WAIT, FIN_WAIT_2), all as deadlines
// in microseconds of the stack's clock that the owning worker checks (TcpWorker.PollTimers).
public sealed partial class TcpConnection
{
    private long _rtoUs;
    // SRTT times 8, the mean deviation, its largest value this round trip, and RTTVAR (Linux's srtt_us, mdev_us,
    // mdev_max_us, rttvar_us), and the SND.NXT that ends the round trip (rtt_seq).
    private long _srtt8Us;
    private long _mdevUs;
    private long _mdevMaxUs;
    private long _rttvarUs;
    private uint _rttSeq;
    private bool _rttTiming;
    private uint _rttSequence;
    private long _rttStartUs;
    private int _retries;

    // Congestion control (RFC 5681, RFC 6582; the algorithm's own part in TcpConnection.Congestion.cs), in octets.
    private int _cwnd;
    private int _ssthresh;
    private int _dupAcks;
    private bool _inRecovery;
    private uint _recover;

    // 0: not armed.
    private long _rtoDeadline;
    private long _delayedAckDeadline;
    private long _closeDeadline;
    private long _keepAliveDeadline;
    private long _applicationDeadline;

    // Keep-alive probes sent since the peer was last heard from.
    private int _keepAliveProbes;

    // The worker's timer wheel (TcpTimerWheel): the slot this connection is filed in (-1: none), the deadline it was
    // filed for, and its neighbours in that slot's list.
    internal int TimerSlot = -1;
    internal long TimerAt;
    internal TcpConnection? TimerPrevious;
    internal TcpConnection? TimerNext;

    /// <summary>The congestion window in octets.</summary>
    public int CongestionWindow => _cwnd;

    /// <summary>The slow-start threshold in octets (int.MaxValue until the first loss).</summary>
    public int SlowStartThreshold => _ssthresh;

    /// <summary>The current retransmission timeout.</summary>
    public TimeSpan RetransmissionTimeout => TimeSpan.FromTicks(_rtoUs * 10);

    /// <summary>The smoothed round-trip time (zero before the first sample).</summary>
    public TimeSpan SmoothedRtt => TimeSpan.FromTicks((_srtt8Us >> 3) * 10);

    /// <summary>The smoothed round-trip time in microseconds (0 before the first sample).</summary>
    private long SmoothedRttUs => _srtt8Us >> 3;

    /// <summary>The MSS segments we send carry at most (options excluded).</summary>
    public int SendMss => _mss;

    /// <summary>The shift applied to the peer's window field (RFC 7323), 0 without window scaling.</summary>
    public int SendWindowShift => _sndShift;

    /// <summary>True when both ends agreed on SACK (RFC 2018).</summary>
    public bool SackPermitted => _sackPermitted;

    /// <summary>True when both ends send timestamps (RFC 7323).</summary>
    public bool TimestampsOn => _timestamps;

    /// <summary>The earliest armed deadline, or long.MaxValue.</summary>
    internal long NextDeadline
    {
        get
        {
            long next = long.MaxValue;
            if (_rtoDeadline != 0)
                next = _rtoDeadline;
            if (_delayedAckDeadline != 0 && _delayedAckDeadline < next)
                next = _delayedAckDeadline;
            if (_closeDeadline != 0 && _closeDeadline < next)
                next = _closeDeadline;
            if (_keepAliveDeadline != 0 && _keepAliveDeadline < next)
                next = _keepAliveDeadline;
            if (_applicationDeadline != 0 && _applicationDeadline < next)
                next = _applicationDeadline;
            return next;
        }
    }

    private void ArmRto(long nowUs)
    {
        _probeTimer = false;
        _lossProbeTimer = false;
        _reorderTimer = false;
        _rtoStartUs = nowUs;
        SetDeadline(ref _rtoDeadline, nowUs + _rtoUs);
    }

    private void ScheduleDelayedAck(long nowUs)
    {
        if (_delayedAckDeadline == 0)
            SetDeadline(ref _delayedAckDeadline, nowUs + (long)_worker.Settings.DelayedAck.TotalMicroseconds);
    }

    private void SetCloseDeadline(long nowUs) => SetDeadline(ref _closeDeadline, nowUs + (long)_worker.Settings.TimeWait.TotalMicroseconds);

    private void SetDeadline(ref long deadline, long at)
    {
        deadline = at;
        _worker.Timers.Schedule(this, at);
    }

    // RFC 6298's estimator as Linux runs it (tcp_rtt_estimator, tcp_set_rto), in microseconds: SRTT with gain 1/8;
    // the mean deviation with gain 1/4 (1/32 while the RTT falls, so a falling RTT does not shrink the RTO fast);
    // RTTVAR is the largest deviation seen in the last round trip but never under the minimum RTO, and RTO =
    // SRTT + RTTVAR. So the RTO is at least SRTT + 200 ms, where RFC 6298 with a 200 ms floor would give 200 ms for
    // any RTT up to about 70 ms; the first sample gives 3 x RTT (or RTT + 200 ms).
    private void SampleRtt(long rttUs)
    {
        if (rttUs < 0)
            return;
        NoteMinRtt(rttUs);
        TcpSettings settings = _worker.Settings;
        long minRtoUs = (long)settings.MinRto.TotalMicroseconds;
        long m = rttUs;
        long srtt8 = _srtt8Us;
        if (srtt8 != 0)
        {
            m -= srtt8 >> 3;
            srtt8 += m;
            if (m < 0)
            {
                m = -m - (_mdevUs >> 2);
                if (m > 0)
                    m >>= 3;
            }
            else
            {
                m -= _mdevUs >> 2;
            }
            _mdevUs += m;
            if (_mdevUs > _mdevMaxUs)
            {
                _mdevMaxUs = _mdevUs;
                if (_mdevMaxUs > _rttvarUs)
                    _rttvarUs = _mdevMaxUs;
            }
            // Once per round trip the variance decays toward the round's largest deviation.
            if (GreaterThan(_sndUna, _rttSeq))
            {
                if (_mdevMaxUs < _rttvarUs)
                    _rttvarUs -= (_rttvarUs - _mdevMaxUs) >> 2;
                _rttSeq = _sndNxt;
                _mdevMaxUs = minRtoUs;
            }
        }
        else
        {
            srtt8 = m << 3;
            _mdevUs = m << 1;
            _rttvarUs = Math.Max(_mdevUs, minRtoUs);
            _mdevMaxUs = _rttvarUs;
            _rttSeq = _sndNxt;
        }
        _srtt8Us = Math.Max(1, srtt8);
        long rto = (_srtt8Us >> 3) + _rttvarUs;
        _rtoUs = Math.Clamp(rto, minRtoUs, (long)settings.MaxRto.TotalMicroseconds);
    }

    /// <summary>Runs whichever of this connection's timers are due at <paramref name="nowUs"/>.</summary>
    internal void OnTimers(long nowUs)
    {
        if (_closeDeadline != 0 && nowUs >= _closeDeadline)
        {
            // TIME_WAIT's 2 MSL, or FIN_WAIT_2's limit, ran out.
            Release();
            return;
        }
        if (_delayedAckDeadline != 0 && nowUs >= _delayedAckDeadline)
        {
            _delayedAckDeadline = 0;
            NoteDelayedAckFired();
            SendAck();
        }
        if (_rtoDeadline != 0 && nowUs >= _rtoDeadline)
        {
            _rtoDeadline = 0;
            if (_probeTimer)
                OnProbeTimer(nowUs);
            else if (_reorderTimer)
                OnReorderTimeout(nowUs);
            else if (_lossProbeTimer)
                OnLossProbe(nowUs);
            else
                OnRetransmissionTimeout(nowUs);
        }
        if (_keepAliveDeadline != 0 && nowUs >= _keepAliveDeadline && State != TcpState.Closed)
        {
            _keepAliveDeadline = 0;
            OnKeepAlive(nowUs);
        }
        if (_applicationDeadline != 0 && nowUs >= _applicationDeadline && State != TcpState.Closed)
        {
            _applicationDeadline = 0;
            _application?.OnTimer(this);
            // What the application wrote, or its FIN, leaves now.
            AfterInput(nowUs);
        }
    }

    /// <summary>
    /// Arms the application's one timer: <see cref="ITcpApplication.OnTimer"/> runs on the worker once
    /// <see cref="ClockMicroseconds"/> reaches <paramref name="atMicroseconds"/> (up to a millisecond later); a later call
    /// replaces the deadline, 0 disarms it. Nothing fires after the connection ended or entered TIME_WAIT.
    /// </summary>
    public void SetApplicationTimer(long atMicroseconds)
    {
        if (atMicroseconds <= 0 || _application is null || State is TcpState.Closed or TcpState.TimeWait)
        {
            _applicationDeadline = 0;
            return;
        }
        // The wheel files a connection under its earliest deadline and looks again when that slot comes, so moving
        // this one later costs nothing now.
        SetDeadline(ref _applicationDeadline, atMicroseconds);
    }

    /// <summary>When the application's timer fires (in <see cref="ClockMicroseconds"/>); 0 when it is not armed.</summary>
    public long ApplicationTimer => _applicationDeadline;

    /// <summary>The peer was heard from: keep-alive starts its idle time again (Linux counts from the last segment received).</summary>
    private void NoteHeardFrom(long nowUs)
    {
        _keepAliveProbes = 0;
        _lastHeardUs = nowUs;
        if (_listener?.KeepAlive is { } keepAlive && State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2)
            SetDeadline(ref _keepAliveDeadline, nowUs + (long)keepAlive.Idle.TotalMicroseconds);
    }

    // Linux's tcp_keepalive_timer: while data is outstanding the retransmission timer watches the peer instead; else a
    // probe <SEQ=SND.UNA-1><ACK> (RFC 9293 §3.8.4), which a live peer must answer with an ACK, every interval; after
    // Count unanswered probes the connection is reset.
    private void OnKeepAlive(long nowUs)
    {
        if (_listener?.KeepAlive is not { } keepAlive || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2))
            return;
        if (_sndMax != _sndUna || (_tx is not null && _tx.Count > 0))
        {
            SetDeadline(ref _keepAliveDeadline, nowUs + (long)keepAlive.Idle.TotalMicroseconds);
            return;
        }
        if (_keepAliveProbes >= keepAlive.Count)
        {
            Nic.Stats.Add(_worker.Index, StatCounter.TcpAbortOnTimeout);
            Nic.Stats.Add(_worker.Index, StatCounter.TcpConnectionsReset);
            _worker.SendReset(this, _sndNxt, _rcvNxt, TcpFlags.Rst | TcpFlags.Ack);
            CloseWith(TimeoutError);
            return;
        }
        _keepAliveProbes++;
        Nic.Stats.Add(_worker.Index, StatCounter.TcpKeepAliveProbes);
        Emit(_sndUna - 1, TcpFlags.Ack, 0, 0);
        SetDeadline(ref _keepAliveDeadline, nowUs + (long)keepAlive.Interval.TotalMicroseconds);
    }

    private void OnRetransmissionTimeout(long nowUs)
    {
        // What a timeout sends again is not judged by D-SACK here (Linux would try F-RTO and undo after a loss too).
        _undoArmed = false;
        TcpSettings settings = _worker.Settings;
        NicStats stats = Nic.Stats;
        int worker = _worker.Index;
        // The peer shut its window on data in flight (Linux's "receiver dastardly shrinks window"): the retransmissions
        // are then window probes and do not count toward the limit; only a peer silent for the longest RTO ends it.
        // Not for an orphan (Linux's !SOCK_DEAD): its timeouts count as any.
        bool shutWindow = _sndWnd == 0 && !Orphaned && State is not (TcpState.SynSent or TcpState.SynReceived);
        if (!shutWindow)
            _retries++;
        // RFC 6298 §5.5: back off.
        _rtoUs = Math.Min(_rtoUs * 2, (long)settings.MaxRto.TotalMicroseconds);
        if (State == TcpState.SynSent)
        {
            OnSynTimeout(nowUs);
            return;
        }
        if (State == TcpState.SynReceived)
        {
            if (_retries > settings.SynAckRetries)
            {
                stats.Add(worker, StatCounter.TcpConnectionsReset);
                Release();
                return;
            }
            stats.Add(worker, StatCounter.TcpSynAckRetransmits);
            stats.Add(worker, StatCounter.TcpRetransmits);
            SendSynAck();
            _synSentUs = -1;
            ArmRto(nowUs);
            return;
        }
        if (_sndUna == _sndNxt && _sndUna == _sndMax && (_tx is null || _tx.Count == 0) && !(_finQueued && !_finAcked && _sndNxt == FinSequence))
            return;
        if (shutWindow ? nowUs - _lastHeardUs > (long)settings.MaxRto.TotalMicroseconds : _retries > settings.MaxRetries)
        {
            // Linux gives up quietly (tcp_write_err): no RST.
            stats.Add(worker, StatCounter.TcpAbortOnTimeout);
            CloseWith(TimeoutError);
            return;
        }
        if (!shutWindow)
            stats.Add(worker, StatCounter.TcpTimeouts);
        // RFC 5681 §3.1 (equation 4, or RFC 9438 §4.8's β_cubic) and the loss window of one segment; go back to SND.UNA.
        ArmLossUndo(nowUs);
        // ssthresh is cut once per episode (Linux's tcp_enter_loss): not again when the window was already cut for an
        // ECE or a fast recovery that has not ended (cwnd is PRR's by then), nor at a later timeout of the same loss.
        if (!_ecnReducing && !_inRecovery && !LessThan(_sndUna, _recover))
            _ssthresh = SlowStartThresholdAfterTimeout();
        _ecnReducing = false;
        QueueCongestionWindowReduced();
        _cwnd = _mss;
        _inRecovery = false;
        // Go-back-N from SND.UNA resends what the peer has not SACKed (RFC 6675 §5.1; Linux's tcp_timeout_mark_lost
        // keeps SACKed segments marked). A SACKed segment at SND.UNA means the peer reneged: then nothing SACKed is trusted.
        _sackRecovery = false;
        if (_sackedCount > 0 && _sackedStart[0] == _sndUna)
            _sackedCount = 0;
        _lossProbeOut = false;
        _recover = _sndMax;
        _dupAcks = 0;
        _rttTiming = false;
        _sndNxt = _sndUna;
        // Only what the peer's window takes, as Linux's tcp_retransmit_skb; a shut window gets the whole segment.
        Retransmit();
        ArmRto(nowUs);
    }

    private void EnterTimeWait(long nowUs)
    {
        State = TcpState.TimeWait;
        _rtoDeadline = 0;
        _delayedAckDeadline = 0;
        _keepAliveDeadline = 0;
        _applicationDeadline = 0;
        Nic.Stats.Add(_worker.Index, StatCounter.TcpTimeWaits);
        _lastAdvertised = ReceiveWindow();
        // Both sides have closed: for the application the connection has ended (Linux's socket leaves it here too). It
        // hears so while the receive buffer still holds what it has not read.
        _application?.OnClosed(this);
        _application = null;
        ReturnRings();
        if (!_worker.TryEnterTimeWait())
        {
            Nic.Stats.Add(_worker.Index, StatCounter.TcpTimeWaitOverflow);
            Release();
            return;
        }
        SetCloseDeadline(nowUs);
    }

    private void ReturnRings()
    {
        if (_rx is not null)
            _worker.ReturnReceiveRing(_rx);
        if (_tx is not null)
            _worker.ReturnSendRing(_tx);
        _rx = null;
        _tx = null;
    }

    /// <summary>Ends the connection for <paramref name="error"/>, which the application sees in <see cref="CloseError"/>.</summary>
    private void CloseWith(TcpError error)
    {
        CloseError = error;
        Release();
    }

    /// <summary>Ends the connection: out of the worker's table and timer list, buffers and object back to the pools.</summary>
    internal void Release()
    {
        // The application hears of the end while the connection is still whole; it must not keep the object.
        _application?.OnClosed(this);
        _application = null;
        if (State == TcpState.SynReceived && _listener is not null)
            _listener.HalfOpen(_worker.Index)--;
        if (State == TcpState.TimeWait)
            _worker.LeaveTimeWait();
        State = TcpState.Closed;
        _rtoDeadline = 0;
        _delayedAckDeadline = 0;
        _closeDeadline = 0;
        _keepAliveDeadline = 0;
        _applicationDeadline = 0;
        ReturnRings();
        _worker.Remove(this);
    }
}
