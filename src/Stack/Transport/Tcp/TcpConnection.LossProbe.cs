using XdpStack.Stack.Wire;
using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// The tail loss probe (RFC 8985 §7) as Linux runs it by default (net.ipv4.tcp_early_retrans = 3;
// tcp_schedule_loss_probe, tcp_send_loss_probe, tcp_process_tlp_ack). With SACK on and no recovery running, the
// retransmission deadline is first a probe timeout of two round trips: if the flight's ACKs stop coming, one segment
// goes out (new data if the peer's window takes it, else the last segment again) to draw an ACK whose SACK shows what
// was lost, so a lost tail is repaired by fast recovery instead of a timeout. Like Linux's ICSK_TIME_LOSS_PROBE, the
// probe timeout shares the retransmission deadline.
public sealed partial class TcpConnection
{
    // True while _rtoDeadline is the probe timeout rather than the retransmission timer.
    private bool _lossProbeTimer;

    // When the retransmission timer was last started: the probe timeout never runs past that start plus the RTO (Linux
    // measures it from the first unacknowledged segment's send time, tcp_rto_delta_us).
    private long _rtoStartUs;

    // The start of the last segment that went out for the first time: what a probe sends again.
    private uint _lastSegmentStart;

    // A probe is out (Linux's tlp_high_seq != 0): SND.MAX after it, and whether it was a retransmission.
    private bool _lossProbeOut;
    private uint _lossProbeHigh;
    private bool _lossProbeRetransmitted;

    private void ResetLossProbe()
    {
        _lossProbeTimer = false;
        _rtoStartUs = 0;
        _lastSegmentStart = 0;
        _lossProbeOut = false;
        _lossProbeHigh = 0;
        _lossProbeRetransmitted = false;
    }

    // tcp_schedule_loss_probe: after new data left or an ACK restarted the timer. Two smoothed RTTs, plus the minimum
    // RTO when a single segment is out (its ACK may be delayed) or 2 ms otherwise; 1 s before any RTT sample; never
    // later than the retransmission timer would fire. False when no probe may run: the timer stays the RTO.
    private bool ScheduleLossProbe(long nowUs)
    {
        // Not in recovery, nor while a timeout's go-back-N has not caught up with what was sent before it (Linux's
        // Loss state): only from the Open state.
        if (!_worker.Settings.LossProbes || !_sackPermitted || _sndMax == _sndUna || _inRecovery || LessThan(_sndUna, _recover) || _probeTimer || _reorderTimer
            || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck))
            return false;
        long srttUs = SmoothedRttUs;
        long timeoutUs = srttUs == 0
            ? (long)_worker.Settings.InitialRto.TotalMicroseconds
            : 2 * srttUs + ((int)(_sndMax - _sndUna) <= _mss ? (long)_worker.Settings.MinRto.TotalMicroseconds : 2000);
        long untilRtoUs = _rtoStartUs + _rtoUs - nowUs;
        if (untilRtoUs > 0)
            timeoutUs = Math.Min(timeoutUs, untilRtoUs);
        _lossProbeTimer = true;
        SetDeadline(ref _rtoDeadline, nowUs + timeoutUs);
        return true;
    }

    // tcp_send_loss_probe: one segment, then the full RTO from now. At most one probe is out at a time: while one is,
    // the timer goes back to the retransmission deadline it would have had.
    private void OnLossProbe(long nowUs)
    {
        _lossProbeTimer = false;
        if (_sndMax == _sndUna)
            return;
        if (_lossProbeOut || _inRecovery)
        {
            SetDeadline(ref _rtoDeadline, Math.Max(_rtoStartUs + _rtoUs, nowUs + 1));
            return;
        }
        bool retransmitted;
        int mss = SegmentSize;
        int unsent = _tx is null ? 0 : _tx.Count - (int)Math.Min(_sndNxt - _sndUna, (uint)_tx.Count);
        int length = Math.Min(mss, unsent);
        if (unsent > 0 && LessOrEqual(_sndNxt + (uint)length, _sndUna + _sndWnd))
        {
            // New data the peer's window takes (tcp_snd_wnd_test), whatever the congestion window says.
            bool fin = _finQueued && !_finAcked && length == unsent;
            SendData(_sndNxt, length, fin, nowUs);
            retransmitted = false;
        }
        else if (!RetransmitTail(nowUs))
        {
            ArmRto(nowUs);
            return;
        }
        else
        {
            retransmitted = true;
        }
        _lossProbeOut = true;
        _lossProbeHigh = _sndMax;
        _lossProbeRetransmitted = retransmitted;
        Nic.Stats.Add(_worker.Index, StatCounter.TcpLossProbes);
        ArmRto(nowUs);
    }

    // The last segment sent, again (from SND.UNA if the peer has acknowledged part of it), with the FIN if it carried one.
    private bool RetransmitTail(long nowUs)
    {
        bool finOut = _finQueued && _sndMax == FinSequence + 1;
        uint dataEnd = finOut ? _sndMax - 1 : _sndMax;
        uint start = GreaterThan(_lastSegmentStart, _sndUna) && LessThan(_lastSegmentStart, dataEnd) ? _lastSegmentStart : _sndUna;
        int mss = SegmentSize;
        if ((int)(dataEnd - start) > mss)
            start = dataEnd - (uint)mss;
        int length = (int)(dataEnd - start);
        if (length <= 0 && !finOut)
            return false;
        _rttTiming = false; // Karn: no sample from a retransmitted segment.
        int offset = (int)(start - _sndUna);
        TcpFlags flags = TcpFlags.Ack | (finOut ? TcpFlags.Fin : 0) | PushFor(offset, length);
        Emit(start, flags, offset, length);
        Nic.Stats.Add(_worker.Index, StatCounter.TcpRetransmits);
        _lastDataSentUs = nowUs;
        return true;
    }

    // tcp_process_tlp_ack: once the ACK reaches past the probe, was the probe a repair? A probe of new data, a D-SACK
    // for the probe (original and probe both arrived) or a plain duplicate ACK says nothing was lost; an ACK beyond
    // it without a D-SACK says the probe repaired a loss, which the congestion window answers for as it would in
    // recovery (Linux enters CWR and ends it at once: cwnd = ssthresh).
    private void ProcessLossProbeAck(ref TcpSegment seg, uint ack, bool advanced, bool newlySacked)
    {
        if (!_lossProbeOut || LessThan(ack, _lossProbeHigh))
            return;
        if (!_lossProbeRetransmitted || CarriesDsackFor(ref seg, ack, _lossProbeHigh))
        {
            _lossProbeOut = false;
        }
        else if (GreaterThan(ack, _lossProbeHigh))
        {
            _lossProbeOut = false;
            _ssthresh = SlowStartThresholdAfterLoss();
            _cwnd = Math.Max(_ssthresh, _mss);
            Nic.Stats.Add(_worker.Index, StatCounter.TcpLossProbeRecoveries);
        }
        else if (!advanced && !newlySacked && seg.Payload.Length == 0)
        {
            _lossProbeOut = false;
        }
    }

    // RFC 2883: a first SACK block below the cumulative ACK reports a duplicate; here one that ends in the probe's segment.
    private bool CarriesDsackFor(ref TcpSegment seg, uint ack, uint probeEnd)
    {
        if (seg.Sack.Count == 0)
            return false;
        uint left = seg.Sack.Left(0), right = seg.Sack.Right(0);
        return LessThan(left, right) && LessOrEqual(right, ack) && LessOrEqual(right, probeEnd) && GreaterThan(right, probeEnd - (uint)_mss - 1);
    }

    // The scoreboard's size, to tell whether an ACK's blocks added to it.
    private long SackedOctets()
    {
        long octets = 0;
        for (int i = 0; i < _sackedCount; i++)
            octets += _sackedEnd[i] - _sackedStart[i];
        return octets;
    }
}
