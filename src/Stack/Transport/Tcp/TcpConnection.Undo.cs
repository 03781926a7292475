using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// Undoing a recovery that D-SACKs prove was not needed (RFC 2883 §5, Linux's tcp_try_undo_dsack): when every segment
// fast recovery sent again is reported back as a duplicate, nothing was lost, only reordered, and the congestion window
// and slow-start threshold go back to what they were before it (LINUX_MIB_TCPDSACKUNDO). Each D-SACK also widens RACK's
// reordering window by a quarter of the minimum RTT, at most once a round trip, for the next 16 recoveries
// (tcp_rack_update_reo_wnd), so a path that reorders stops setting off recoveries.
public sealed partial class TcpConnection
{
    private bool _undoArmed;       // a fast recovery began and may still be undone (Linux's undo_marker != 0)
    private bool _undoDsacked;     // a D-SACK has covered one of its retransmissions
    private uint _undoMarker;      // SND.UNA when it began: D-SACKs below it are about older data
    private int _undoRetrans;      // its retransmitted segments not yet D-SACKed (Linux's undo_retrans)
    private int _priorCwnd;        // cwnd when the window was last cut (Linux's prior_cwnd, for the undo and for PRR)
    private int _priorSsthresh;    // 0: the threshold stays (it was already cut for an ECN echo)
    private bool _lossUndoArmed;   // a timeout's episode may still be undone by timestamps
    private uint _lossUndoTsval;   // the TSval of its first retransmission (Linux's retrans_stamp)

    private byte _reorderSteps = 1;    // RACK's reo_wnd_steps: the window in quarters of the minimum RTT
    private byte _reorderPersist;      // recoveries the widened window still lasts
    private uint _reorderAdjustedAt;   // SND.MAX when it last widened: once per round trip
    private bool _reorderAdjusted;

    private void ResetUndo()
    {
        _undoArmed = false;
        _undoDsacked = false;
        _undoRetrans = 0;
        _lossUndoArmed = false;
        _reorderSeen = false;
        _reorderSteps = 1;
        _reorderPersist = 0;
        _reorderAdjusted = false;
    }

    // tcp_init_undo, as fast recovery begins.
    private void ArmUndo(bool ssthreshAlreadyCut)
    {
        _undoArmed = true;
        _undoDsacked = false;
        _undoMarker = _sndUna;
        _undoRetrans = 0;
        // After an ECN echo the window was cut already, and PRR's prior_cwnd (the same field in Linux) stays the
        // window before that cut.
        if (!ssthreshAlreadyCut)
            _priorCwnd = _cwnd;
        _priorSsthresh = ssthreshAlreadyCut ? 0 : _ssthresh;
    }

    private void NoteRecoveryRetransmission(int length)
    {
        if (_undoArmed && _inRecovery)
            _undoRetrans += Math.Max(1, (length + _mss - 1) / _mss);
    }

    // An ACK's first SACK block reports a duplicate (RFC 2883 §4: below the cumulative ACK, or inside the second block).
    private void TakeDsack(ref TcpSegment seg, uint ack)
    {
        if (seg.Sack.Count == 0)
            return;
        uint left = seg.Sack.Left(0), right = seg.Sack.Right(0);
        bool duplicate = LessThan(left, right) && (LessOrEqual(right, ack)
            || (seg.Sack.Count > 1 && LessOrEqual(seg.Sack.Left(1), left) && LessOrEqual(right, seg.Sack.Right(1))));
        if (!duplicate || GreaterThan(right, _sndMax))
            return;
        if (_undoArmed && GreaterThan(right, _undoMarker) && LessOrEqual(right, ack))
        {
            _undoRetrans -= Math.Max(1, (int)((right - left + (uint)_mss - 1) / (uint)_mss));
            _undoDsacked = true;
        }
        if (_worker.Settings.Rack && (!_reorderAdjusted || !LessThan(ack, _reorderAdjustedAt)))
        {
            _reorderAdjusted = true;
            _reorderSteps = (byte)Math.Min(255, _reorderSteps + 1);
            _reorderPersist = 16;
            _reorderAdjustedAt = _sndMax;
        }
    }

    // After the ACK's processing: out of recovery with every retransmission D-SACKed, the reduction is undone.
    private void TryUndo()
    {
        if (!_undoArmed || _inRecovery || !_undoDsacked || _undoRetrans > 0)
            return;
        _undoArmed = false;
        _cwnd = Math.Max(_cwnd, _priorCwnd);
        if (_priorSsthresh > _ssthresh)
            _ssthresh = _priorSsthresh;
        Nic.Stats.Add(_worker.Index, StatCounter.TcpDsackUndos);
    }

    // A retransmission timeout begins a loss episode: with timestamps on, the TSval its retransmission carries
    // (Linux's retrans_stamp) tells a late ACK of the originals from an ACK of the retransmission (RFC 3522, Eifel).
    // Not inside a fast recovery: its first retransmission went out earlier, and Linux keeps that stamp.
    private void ArmLossUndo(long nowUs)
    {
        if (_lossUndoArmed && LessThan(_sndUna, _recover))
            return; // a later timeout of the same episode: the first retransmission's stamp stands
        _lossUndoArmed = _timestamps && !_inRecovery;
        if (!_lossUndoArmed)
            return;
        _lossUndoTsval = TimestampNow(nowUs);
        _priorCwnd = _cwnd;
        _priorSsthresh = _ecnReducing ? 0 : _ssthresh;
    }

    // An ACK that moved SND.UNA after a timeout echoes a TSval older than the retransmission's: the originals arrived,
    // the timeout was spurious. As Linux's tcp_try_undo_loss: cwnd and ssthresh go back, what the go-back-N had not
    // yet resent is not resent, and the connection is open again.
    private void TryUndoLoss(ref TcpSegment seg, uint sndUnaBefore)
    {
        if (!_lossUndoArmed)
            return;
        if (!LessThan(sndUnaBefore, _recover) || _inRecovery)
        {
            _lossUndoArmed = false;
            return;
        }
        if (!seg.HasTimestamps || seg.TsEcho == 0 || (int)(seg.TsEcho - _lossUndoTsval) >= 0)
            return;
        _lossUndoArmed = false;
        _cwnd = Math.Max(_cwnd, _priorCwnd);
        if (_priorSsthresh > _ssthresh)
            _ssthresh = _priorSsthresh;
        if (LessThan(_sndNxt, _sndMax))
            _sndNxt = _sndMax;
        _recover = _sndUna;
        Nic.Stats.Add(_worker.Index, StatCounter.TcpLossUndos);
    }

    // A recovery ended: the widened reordering window lasts a few more (Linux decrements reo_wnd_persist).
    private void NoteRecoveryEnded()
    {
        if (_reorderPersist > 0)
            _reorderPersist--;
        else
            _reorderSteps = 1;
    }
}
