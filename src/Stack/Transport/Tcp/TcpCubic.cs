namespace XdpStack.Stack.Transport.Tcp;

/// <summary>CUBIC's state for one connection (RFC 9438), in octets and microseconds, integer arithmetic only.</summary>
/// <remarks>
/// <para>A value held inline in <see cref="TcpConnection"/>: the per-ACK step is a few multiplications, with no
/// allocation and no virtual call. W_cubic(t) = C·(t − K)³ + W_max is evaluated in octets as
/// C·MSS·(t − K)³ with t − K in microseconds and a 128-bit product, so nothing is rounded before the last division;
/// K, a cube root, is computed by bisection on integers, once per congestion epoch (Linux uses a table and Newton
/// steps in units of 1/1024 s instead).</para>
/// <para>The connection owns slow start, fast retransmit and recovery; this type answers the questions CUBIC
/// changes: the ssthresh after a loss (§4.6, with fast convergence §4.7 and the timeout rule §4.8), and the window
/// after an ACK in congestion avoidance (§4.2-§4.4, the Reno-friendly region included).</para>
/// </remarks>
internal struct TcpCubic
{
    /// <summary>RFC 9438 §5.1: C = 0.4, as the fraction 2/5.</summary>
    private const long CNumerator = 2;
    private const long CDenominator = 5;

    /// <summary>RFC 9438 §5.1: β_cubic = 0.7, as the fraction 7/10.</summary>
    private const int BetaNumerator = 7;
    private const int BetaDenominator = 10;

    // α_cubic = 3(1 − β)/(1 + β) = 0.9/1.7 = 9/17 (RFC 9438 §4.3).
    private const long AlphaNumerator = 9;
    private const long AlphaDenominator = 17;

    // W_est carries this many fractional bits: an ACK's share of a segment is rarely a whole octet.
    private const int EstimateShift = 10;

    private const long MicrosecondsPerSecond = 1_000_000;

    // |t − K| is clamped here (1,000 s) so that its cube times the MSS stays inside 128 bits; the window is clamped
    // to 1.5 × cwnd long before.
    private const long MaxOffsetUs = 1_000_000_000;

    /// <summary>W_max in octets: the window before the last reduction (after fast convergence); 0 after a timeout.</summary>
    public long WindowMax;

    /// <summary>cwnd_prior: the window just before the last reduction, which ends the Reno-friendly region's slow α.</summary>
    public long WindowPrior;

    /// <summary>The start of the current congestion-avoidance epoch in microseconds; 0 when none has started.</summary>
    public long EpochStartUs;

    /// <summary>K in microseconds: when W_cubic(t) reaches W_max again.</summary>
    public long KUs;

    /// <summary>W_est in octets × 2^10 (RFC 9438 §4.3).</summary>
    public long EstimateScaled;

    // (target − cwnd) × acked octets not yet a whole octet of cwnd: Linux's cwnd_cnt, so that small steps add up.
    private long _credit;

    /// <summary>The state of a new connection: no loss seen, no epoch.</summary>
    public void Reset() => this = default;

    /// <summary>W_est in octets.</summary>
    public readonly long Estimate => EstimateScaled >> EstimateShift;

    /// <summary>
    /// A loss detected by duplicate ACKs or SACK (RFC 9438 §4.6, fast convergence §4.7): W_max and cwnd_prior from
    /// <paramref name="cwnd"/>, the epoch ends; returns the new ssthresh, β_cubic × cwnd in whole segments, at least 2
    /// (Linux's bictcp_recalc_ssthresh, which counts in segments; RFC 8312 took the flight instead).
    /// </summary>
    public int OnLoss(int cwnd, int mss)
    {
        // §4.7: a window that stopped short of the last W_max means a new flow takes a share: give way sooner.
        WindowMax = cwnd < WindowMax ? (long)cwnd * (BetaDenominator + BetaNumerator) / (2 * BetaDenominator) : cwnd;
        WindowPrior = cwnd;
        EpochStartUs = 0;
        return Math.Max(cwnd / mss * BetaNumerator / BetaDenominator, 2) * mss;
    }

    /// <summary>
    /// A retransmission timeout (RFC 9438 §4.8): ssthresh as for a loss; the first epoch after it starts with K = 0
    /// and W_max = the window it starts at, as Linux's bictcp_reset leaves it.
    /// </summary>
    public int OnTimeout(int cwnd, int mss)
    {
        int ssthresh = OnLoss(cwnd, mss);
        WindowMax = 0;
        return ssthresh;
    }

    /// <summary>
    /// An ACK of <paramref name="acked"/> new octets in congestion avoidance (RFC 9438 §4.2-§4.4): returns the new cwnd.
    /// <paramref name="rttUs"/> is the smoothed RTT, the look-ahead of the target W_cubic(t + RTT).
    /// </summary>
    public int OnAck(int cwnd, int acked, int mss, long nowUs, long rttUs)
    {
        if (EpochStartUs == 0)
            StartEpoch(cwnd, mss, nowUs);
        long t = nowUs - EpochStartUs;

        // §4.3: W_est grows by α_cubic segments per window acknowledged, and by 1 once it passed cwnd_prior.
        long alphaNumerator = Estimate >= WindowPrior ? 1 : AlphaNumerator;
        long alphaDenominator = Estimate >= WindowPrior ? 1 : AlphaDenominator;
        EstimateScaled += ((long)acked * mss << EstimateShift) * alphaNumerator / (alphaDenominator * cwnd);

        long cubic = Window(t, mss);
        if (cubic < Estimate)
        {
            // Reno-friendly region: Reno would be ahead, so cwnd follows W_est.
            _credit = 0;
            return (int)Math.Min(Math.Max(Estimate, cwnd), int.MaxValue);
        }

        // §4.4: concave (cwnd < W_max) and convex regions alike aim at W_cubic one RTT ahead, within [cwnd, 1.5 cwnd].
        long target = Math.Clamp(Window(t + rttUs, mss), cwnd, cwnd + (cwnd / 2));
        _credit += (target - cwnd) * acked;
        long grow = _credit / cwnd;
        _credit -= grow * cwnd;
        return (int)Math.Min(cwnd + grow, int.MaxValue);
    }

    /// <summary>W_cubic(t) in octets (RFC 9438 eq. 1), <paramref name="tUs"/> since the epoch began.</summary>
    public readonly long Window(long tUs, int mss)
    {
        long offset = Math.Clamp(tUs - KUs, -MaxOffsetUs, MaxOffsetUs);
        Int128 cube = (Int128)offset * offset * offset * (mss * CNumerator);
        Int128 perSecondCubed = (Int128)MicrosecondsPerSecond * MicrosecondsPerSecond * MicrosecondsPerSecond * CDenominator;
        return Math.Max(WindowMax + (long)(cube / perSecondCubed), 0);
    }

    // §4.2 eq. 2: K = ∛((W_max − cwnd_epoch) / C), in segments and seconds; 0 when the epoch starts at or above W_max
    // (after a timeout, W_max is then the window at the epoch's start, §4.8). W_est starts at cwnd_epoch (§4.3).
    private void StartEpoch(int cwnd, int mss, long nowUs)
    {
        EpochStartUs = nowUs == 0 ? 1 : nowUs;
        EstimateScaled = (long)cwnd << EstimateShift;
        _credit = 0;
        if (WindowMax <= cwnd)
        {
            WindowMax = cwnd;
            KUs = 0;
            return;
        }
        // K³ in µs³ = (W_max − cwnd) / MSS / C × 10^18.
        Int128 cube = (Int128)(WindowMax - cwnd) * CDenominator * MicrosecondsPerSecond * MicrosecondsPerSecond * MicrosecondsPerSecond / (mss * CNumerator);
        KUs = CubeRoot(cube);
    }

    /// <summary>The largest integer whose cube is at most <paramref name="value"/> (≥ 0).</summary>
    internal static long CubeRoot(Int128 value)
    {
        long low = 0;
        long high = 1L << 42; // (2^42)^3 = 2^126, past any K³ a 32-bit window gives
        while (low < high)
        {
            long mid = low + ((high - low + 1) / 2);
            if ((Int128)mid * mid * mid <= value)
                low = mid;
            else
                high = mid - 1;
        }
        return low;
    }
}
