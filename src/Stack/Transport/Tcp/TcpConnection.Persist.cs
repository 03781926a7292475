using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Tcp;

// Zero-window probing as Linux's probe timer (tcp_check_probe_timer, tcp_probe_timer, tcp_send_probe0,
// tcp_write_wakeup, tcp_ack_probe): data waits on a window too small for its next segment with nothing in flight.
// The probe timer shares the retransmission deadline, as Linux's ICSK_TIME_PROBE0 shares icsk_retransmit_timer.
public sealed partial class TcpConnection
{
    // Unanswered probes an orphaned connection gets while its interval is short (Linux's tcp_orphan_retries when
    // net.ipv4.tcp_orphan_retries is 0 and the peer was heard from recently).
    private const int OrphanProbes = 8;

    // True while _rtoDeadline is the probe timer rather than the retransmission timer.
    private bool _probeTimer;

    // Probes sent since the peer last answered (Linux's icsk_probes_out): any acceptable ACK resets it, so a peer that
    // keeps answering keeps the connection open however long its window stays shut (RFC 1122 §4.2.2.17).
    private int _windowProbes;

    // Doublings of the probe interval (Linux's icsk_backoff); an answer does not undo them, data sent does.
    private int _probeBackoff;

    // When the last acceptable segment came (Linux's rcv_tstamp): a timeout on a window the peer shrank gives up
    // only after this long a silence.
    private long _lastHeardUs;

    /// <summary>Zero-window probes sent since the peer last answered one.</summary>
    public int WindowProbesOutstanding => _windowProbes;

    private void ResetPersist()
    {
        _probeTimer = false;
        _windowProbes = 0;
        _probeBackoff = 0;
        _lastHeardUs = 0;
    }

    /// <summary>True when data or the FIN waits to leave for the first time.</summary>
    private bool HasUnsent =>
        (_tx is not null && _tx.Count > (int)(_sndNxt - _sndUna))
        || (_finQueued && !_finAcked && _sndNxt == FinSequence);

    // tcp_probe0_base and tcp_probe0_when: the RTO, at least the minimum, doubled per unanswered probe up to the maximum.
    private long ProbeIntervalUs(int backoff)
    {
        TcpSettings settings = _worker.Settings;
        long maxUs = (long)settings.MaxRto.TotalMicroseconds;
        long baseUs = Math.Max(_rtoUs, (long)settings.MinRto.TotalMicroseconds);
        return backoff >= 30 || baseUs << backoff > maxUs ? maxUs : baseUs << backoff;
    }

    private void ArmProbe(long atUs)
    {
        _probeTimer = true;
        _lossProbeTimer = false;
        SetDeadline(ref _rtoDeadline, atUs);
    }

    // After a flush, with no timer running: anything outstanding has the retransmission timer (after a timeout's
    // go-back-N an ACK may have caught up with SND.NXT while more of the old flight is still out); else, if something
    // waits, only the window holds it and the probe timer starts at the base interval (tcp_check_probe_timer).
    private void CheckTimers(long nowUs)
    {
        if (_rtoDeadline != 0)
            return;
        if (_sndMax != _sndUna)
            ArmRto(nowUs);
        else if (HasUnsent)
            ArmProbe(nowUs + ProbeIntervalUs(0));
    }

    // Data leaves: the retransmission timer replaces the probe timer, and probing starts from the base interval next time.
    private void LeaveProbeMode()
    {
        _probeTimer = false;
        _rtoDeadline = 0;
        _windowProbes = 0;
        _probeBackoff = 0;
    }

    // An acceptable ACK (tcp_ack): the peer answered. With nothing in flight before it, the probe timer starts again at
    // the backed-off interval (tcp_ack_probe); if the window now takes the next segment the flush that follows sends it.
    private void NoteAckForProbes(bool nothingWasInFlight, long nowUs)
    {
        _windowProbes = 0;
        if (nothingWasInFlight && _probeTimer && _rtoDeadline != 0)
            ArmProbe(nowUs + ProbeIntervalUs(_probeBackoff));
    }

    private void OnProbeTimer(long nowUs)
    {
        _probeTimer = false;
        if (_sndMax != _sndUna || !HasUnsent || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck))
        {
            _windowProbes = 0;
            return;
        }
        // An orphan (Linux's SOCK_DEAD, tcp_orphan_retries 0): at most 8 probes unanswered, and none once the probe
        // interval has grown to the maximum RTO, however the peer answers; so a peer that never reads cannot hold
        // a closed connection's buffers for good.
        bool orphanSpent = Orphaned
            && (ProbeIntervalUs(_probeBackoff) >= (long)_worker.Settings.MaxRto.TotalMicroseconds || _windowProbes >= OrphanProbes);
        if (orphanSpent || _windowProbes >= _worker.Settings.MaxRetries)
        {
            // As a retransmission limit: Linux's tcp_write_err, no RST.
            Nic.Stats.Add(_worker.Index, StatCounter.TcpAbortOnTimeout);
            CloseWith(TimeoutError);
            return;
        }
        if (WriteWakeup(nowUs))
            return;
        // <SEQ=SND.UNA-1><ACK>: old to the peer, which answers with its current window (tcp_xmit_probe_skb).
        Emit(_sndUna - 1, TcpFlags.Ack, 0, 0);
        Nic.Stats.Add(_worker.Index, StatCounter.TcpWindowProbes);
        _windowProbes++;
        if (_probeBackoff < _worker.Settings.MaxRetries)
            _probeBackoff++;
        ArmProbe(nowUs + ProbeIntervalUs(_probeBackoff));
    }

    // tcp_write_wakeup: the window has room for part of the next segment, so that part goes, pushed, and the
    // retransmission timer takes over. False when the window is shut.
    private bool WriteWakeup(long nowUs)
    {
        if (_sndWnd == 0)
            return false;
        int unsent = _tx!.Count - (int)(_sndNxt - _sndUna);
        int length = (int)Math.Min((uint)Math.Min(SegmentSize, unsent), _sndWnd);
        bool fin = _finQueued && !_finAcked && length == unsent;
        SendData(_sndNxt, length, fin, nowUs, TcpFlags.Psh);
        return true;
    }
}
