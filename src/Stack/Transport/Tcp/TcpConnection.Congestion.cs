namespace XdpStack.Stack.Transport.Tcp;

// The congestion-control hooks: where NewReno (RFC 5681) and CUBIC (RFC 9438) differ, which is the ssthresh a loss
// leaves and how cwnd grows in congestion avoidance. Slow start, fast retransmit and the recoveries (RFC 6582,
// RFC 6675) are the same for both and stay where they are. A switch on an enum field and a struct held inline: no
// virtual call and nothing allocated per ACK.
public sealed partial class TcpConnection
{
    private TcpCongestionControl _congestionControl;
    private TcpCubic _cubic;

    /// <summary>The algorithm that sets the connection's congestion window.</summary>
    public TcpCongestionControl CongestionControl => _congestionControl;

    /// <summary>CUBIC's W_max in octets (0 under NewReno, or before CUBIC's first loss and after a timeout).</summary>
    internal long CubicWindowMax => _congestionControl == TcpCongestionControl.Cubic ? _cubic.WindowMax : 0;

    private void ResetCongestionControl(TcpCongestionControl algorithm)
    {
        _congestionControl = algorithm;
        _cubic.Reset();
    }

    // A loss seen by duplicate ACKs or SACK: the new ssthresh. RFC 5681 eq. 4 halves the flight; RFC 9438 §4.6 keeps β_cubic of it.
    private int SlowStartThresholdAfterLoss(int flight) => _congestionControl switch
    {
        TcpCongestionControl.Cubic => _cubic.OnLoss(_cwnd, flight, _mss),
        _ => Math.Max(flight / 2, 2 * _mss),
    };

    // A retransmission timeout: the new ssthresh (cwnd goes to one segment for both, RFC 5681 §3.1, RFC 9438 §4.8).
    private int SlowStartThresholdAfterTimeout(int flight) => _congestionControl switch
    {
        TcpCongestionControl.Cubic => _cubic.OnTimeout(_cwnd, flight, _mss),
        _ => Math.Max(flight / 2, 2 * _mss),
    };

    // An ACK of new data in congestion avoidance (cwnd ≥ ssthresh, not in recovery).
    private void CongestionAvoidance(int acked, long nowUs)
    {
        switch (_congestionControl)
        {
            case TcpCongestionControl.Cubic:
                _cwnd = _cubic.OnAck(_cwnd, acked, _mss, nowUs, _srttUs);
                break;
            default:
                // RFC 5681 eq. 3: about one segment per window acknowledged.
                _cwnd += Math.Max(1, _mss * _mss / _cwnd);
                break;
        }
    }
}
