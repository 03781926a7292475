using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// RACK's reordering window (RFC 8985 §6.2), as Linux runs it by default (net.ipv4.tcp_recovery = 1), for the case three
// duplicate ACKs never cover: a hole at SND.UNA with one or two segments SACKed above it, as when one of the last few
// segments of a response is lost. Linux marks the hole lost once it has been out a round trip plus a quarter of the
// minimum RTT longer than the segment the peer last SACKed, and enters recovery from that timer
// (tcp_rack_reo_timeout); RFC 6675's rules would wait for the retransmission timer. Without a send time per segment
// this counts the window from the ACK that showed the SACK: never sooner than Linux, by at most the gap between the
// two segments' sends. Like ICSK_TIME_REO_TIMEOUT it shares the retransmission deadline.
public sealed partial class TcpConnection
{
    // True while _rtoDeadline is the reordering window's end rather than the retransmission timer.
    private bool _reorderTimer;

    // The smallest RTT sampled (Linux's tcp_min_rtt, without its 5-minute window), in microseconds; 0 before a sample.
    private int _minRttUs;

    private void ResetRack()
    {
        _reorderTimer = false;
        _minRttUs = 0;
    }

    private void NoteMinRtt(long rttUs)
    {
        if (_minRttUs == 0 || rttUs < _minRttUs)
            _minRttUs = (int)Math.Clamp(rttUs, 1, int.MaxValue);
    }

    // After an ACK's SACK blocks were taken: SACKed data above a hole at SND.UNA that the duplicate-ACK threshold does not
    // yet call lost starts the reordering window (a quarter of the minimum RTT, at most the smoothed RTT). An ACK that
    // delivers more starts it again: Linux times the hole against the RTT of the newest segment delivered
    // (tcp_rack_detect_loss), which a later ACK for the same burst makes longer by as much as it came later.
    private void CheckReorderWindow(long nowUs, bool newlyDelivered)
    {
        if ((_reorderTimer && !newlyDelivered) || _probeTimer || !_worker.Settings.Rack || !ReorderWindowApplies())
            return;
        long windowUs = Math.Min((long)_minRttUs / 4 * _reorderSteps, SmoothedRttUs);
        _lossProbeTimer = false;
        _reorderTimer = true;
        SetDeadline(ref _rtoDeadline, nowUs + Math.Max(windowUs, 1));
    }

    // Not while what was out when the last recovery or timeout began is unacknowledged (_recover is one past it).
    private bool ReorderWindowApplies() =>
        _sackPermitted && !_inRecovery && _sackedCount > 0 && _sndMax != _sndUna && GreaterOrEqual(_sndUna, _recover)
        && GreaterThan(_sackedStart[0], _sndUna) && State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1
            or TcpState.Closing or TcpState.LastAck;

    // The window ran out with the hole still there: it is lost, and recovery starts with its retransmission.
    private void OnReorderTimeout(long nowUs)
    {
        _reorderTimer = false;
        if (ReorderWindowApplies())
        {
            Nic.Stats.Add(_worker.Index, StatCounter.TcpRackReorderTimeouts);
            EnterRecovery(nowUs);
            // tcp_rack_reo_timeout: PRR as for one segment delivered, then the retransmission.
            ReduceWindowProportionally(_mss, sndUnaAdvanced: false, newlyLost: false);
            SackTransmit(nowUs);
            ArmRto(nowUs);
            return;
        }
        if (_sndMax != _sndUna)
            SetDeadline(ref _rtoDeadline, Math.Max(_rtoStartUs + _rtoUs, nowUs + 1));
    }
}
