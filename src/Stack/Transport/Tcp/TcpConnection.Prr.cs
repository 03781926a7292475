using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// Proportional Rate Reduction (RFC 6937), as Linux cuts the window in a SACK recovery and after an ECN echo
// (tcp_init_cwnd_reduction, tcp_cwnd_reduction): instead of dropping cwnd to ssthresh at once and sending nothing
// until pipe drains below it, every ACK lets out about ssthresh/prior_cwnd of what it reports delivered while more
// than ssthresh is in flight (spreading the cut over a round trip), and as much as was delivered once it is below,
// one more when SND.UNA moved and nothing new was found lost (slow start back up to ssthresh). The counts are in
// segments, as Linux's, so the rounding matches; the recovery's first ACK always lets one out (the fast
// retransmission). A NewReno recovery (no SACK) keeps RFC 6582's inflation, which sends the same segments as Linux
// whenever the flight at the loss is within ssthresh plus three segments.
public sealed partial class TcpConnection
{
    private int _prrDelivered;  // segments the peer reported delivered since the cut began (prr_delivered)
    private int _prrOut;        // segments sent since then (prr_out); cwnd at the cut is _priorCwnd (prior_cwnd)

    private void StartWindowReduction()
    {
        _priorCwnd = Math.Max(_cwnd, _mss);
        _prrDelivered = 0;
        _prrOut = 0;
    }

    private bool InWindowReduction => _sackRecovery || _ecnReducing;

    private void NotePrrSent(int length)
    {
        if (InWindowReduction)
            _prrOut += Math.Max(1, (length + _mss - 1) / _mss);
    }

    // One ACK's (or the reordering timer's) worth of PRR: cwnd becomes pipe plus what may be sent now.
    private void ReduceWindowProportionally(long deliveredOctets, bool sndUnaAdvanced, bool newlyLost)
    {
        if (deliveredOctets <= 0)
            return;
        int mss = _mss;
        int delivered = (int)Math.Min((deliveredOctets + mss - 1) / mss, int.MaxValue / 2);
        _prrDelivered = (int)Math.Min((long)_prrDelivered + delivered, int.MaxValue / 2);
        int pipe = _sackPermitted ? Pipe() : (int)(_sndNxt - _sndUna);
        long allowed;
        if (pipe > _ssthresh)
        {
            long dividend = (long)_ssthresh * _prrDelivered + _priorCwnd - 1;
            allowed = dividend / _priorCwnd - _prrOut;
        }
        else
        {
            allowed = Math.Max(_prrDelivered - _prrOut, delivered);
            if (sndUnaAdvanced && !newlyLost)
                allowed++;
            allowed = Math.Min((_ssthresh - pipe) / mss, allowed);
        }
        if (_prrOut == 0)
            allowed = Math.Max(allowed, 1);
        _cwnd = (int)Math.Clamp(pipe + Math.Max(allowed, 0) * mss, 0, MaxCongestionWindow);
    }

    // The octets an ACK reported delivered: what SND.UNA passed that was not SACKed before, and what it newly SACKed.
    private long DeliveredOctets(uint sndUnaBefore, long sackedBefore) =>
        (GreaterThan(_sndUna, sndUnaBefore) ? (long)(_sndUna - sndUnaBefore) : 0) + SackedOctets() - sackedBefore;
}
