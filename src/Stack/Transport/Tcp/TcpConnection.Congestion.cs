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

    // Linux's tcp_cwnd_validate: the most in flight over the window that ends when SND.UNA passes _flightWindowEnd,
    // and whether the window was what held the sender back at some point in it.
    private uint _maxFlight;
    private uint _flightWindowEnd;
    private bool _flightWindowOpen;
    private bool _cwndLimited;

    // The most cwnd may reach, in octets: far above any window a 32-bit sequence space can fill, far below overflow.
    private const int MaxCongestionWindow = 1 << 30;

    // When the last segment with data left (Linux's lsndtime); negative before the first.
    private long _lastDataSentUs;

    private void StartCongestionWindow()
    {
        _cwnd = InitialWindow();
        _ssthresh = int.MaxValue;
        _maxFlight = 0;
        _flightWindowOpen = false;
        _cwndLimited = false;
        _lastDataSentUs = -1;
    }

    // Linux's tcp_slow_start_after_idle_check and tcp_cwnd_restart (net.ipv4.tcp_slow_start_after_idle, on by
    // default; RFC 7661 §4.3's older rule): data to send after more than an RTO with nothing in flight does not go
    // out as one burst of the old window. cwnd halves for every RTO of the silence, down to the initial window (or
    // the window, if smaller), and ssthresh keeps three quarters of the old window.
    private void RestartWindowAfterIdle(long nowUs)
    {
        if (_sndMax != _sndUna || _lastDataSentUs < 0)
            return;
        long idle = nowUs - _lastDataSentUs;
        if (idle <= _rtoUs)
            return;
        int restart = Math.Min(InitialWindow(), _cwnd);
        if (!_inRecovery)
            _ssthresh = Math.Max(_ssthresh, (_cwnd >> 1) + (_cwnd >> 2));
        int cwnd = _cwnd;
        while ((idle -= _rtoUs) > 0 && cwnd > restart)
            cwnd >>= 1;
        _cwnd = Math.Max(cwnd, restart);
        // The next data is sent now, so the silence is over even if the window holds it back.
        _lastDataSentUs = nowUs;
    }

    // After a send: the flight now, and whether cwnd (not the peer's window, not the application) stopped it.
    private void NoteFlight(bool unsentLeft)
    {
        uint flight = _sndNxt - _sndUna;
        bool limitedNow = unsentLeft && flight + (uint)_mss > (uint)_cwnd && (uint)_cwnd <= _sndWnd;
        if (!_flightWindowOpen || !TcpSequence.LessThan(_sndUna, _flightWindowEnd))
        {
            _maxFlight = flight;
            _flightWindowEnd = _sndNxt;
            _flightWindowOpen = true;
            _cwndLimited = limitedNow;
        }
        else
        {
            _maxFlight = Math.Max(_maxFlight, flight);
            _cwndLimited |= limitedNow;
        }
    }

    // Linux's tcp_is_cwnd_limited: cwnd grows only when it is what limits the sender, and in slow start up to twice
    // the largest flight, so an application-limited connection (a keep-alive responder) keeps the window it used.
    private bool IsCongestionWindowLimited() =>
        _cwndLimited || (_cwnd < _ssthresh && (long)_cwnd < 2L * _maxFlight);

    // An ACK of new data outside recovery. Slow start grows cwnd by all it acknowledged, up to ssthresh, and the rest
    // goes to congestion avoidance (Linux's tcp_slow_start and the cong_avoid hooks; gVisor's updateSlowStart grows
    // by the packets acknowledged too): a stretch ACK that covers many segments opens the window as far as ACKs of
    // each would have. RFC 5681 §3.1's at most one SMSS per ACK is stricter (RFC 3465 allows two).
    private void GrowCongestionWindow(int dataAcked, long nowUs)
    {
        if (dataAcked <= 0 || !IsCongestionWindowLimited())
            return;
        if (_cwnd < _ssthresh)
        {
            int grown = (int)Math.Min(Math.Min((long)_cwnd + dataAcked, _ssthresh), MaxCongestionWindow);
            dataAcked -= grown - _cwnd;
            _cwnd = grown;
            if (dataAcked == 0 || grown == MaxCongestionWindow)
                return;
        }
        CongestionAvoidance(dataAcked, nowUs);
        _cwnd = Math.Min(_cwnd, MaxCongestionWindow);
    }

    private void ResetCongestionControl(TcpCongestionControl algorithm)
    {
        _congestionControl = algorithm;
        _cubic.Reset();
    }

    // A loss seen by duplicate ACKs, SACK or an ECN echo: the new ssthresh, from cwnd in whole segments as Linux's
    // ssthresh hooks take it (tcp_reno_ssthresh halves it, bictcp_recalc_ssthresh keeps β_cubic of it); RFC 5681 eq. 4
    // halves the flight instead, which is smaller when the application leaves the window unfilled.
    private int SlowStartThresholdAfterLoss() => _congestionControl switch
    {
        TcpCongestionControl.Cubic => _cubic.OnLoss(_cwnd, _mss),
        _ => Math.Max(_cwnd / _mss / 2, 2) * _mss,
    };

    // A retransmission timeout: the new ssthresh (cwnd goes to one segment for both, RFC 5681 §3.1, RFC 9438 §4.8).
    private int SlowStartThresholdAfterTimeout() => _congestionControl switch
    {
        TcpCongestionControl.Cubic => _cubic.OnTimeout(_cwnd, _mss),
        _ => Math.Max(_cwnd / _mss / 2, 2) * _mss,
    };

    // An ACK of new data in congestion avoidance (cwnd ≥ ssthresh, not in recovery).
    private void CongestionAvoidance(int acked, long nowUs)
    {
        switch (_congestionControl)
        {
            case TcpCongestionControl.Cubic:
                _cwnd = _cubic.OnAck(_cwnd, acked, _mss, nowUs, SmoothedRttUs);
                break;
            default:
                // RFC 5681 eq. 3: about one segment per window acknowledged.
                _cwnd += Math.Max(1, _mss * _mss / _cwnd);
                break;
        }
    }
}
