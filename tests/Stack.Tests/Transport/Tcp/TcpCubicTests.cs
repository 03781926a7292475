using XdpStack.Stack.Transport.Tcp;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>CUBIC's window (RFC 9438) against the RFC's own formulas, evaluated here in floating point at chosen times.</summary>
public class TcpCubicTests
{
    private const int Mss = 1000;
    private const double C = 0.4;
    private const double Beta = 0.7;

    // RFC 9438 eq. 1, in octets: W_cubic(t) = C·(t − K)³ + W_max, with W in segments and t in seconds.
    private static double Cubic(double tSeconds, double kSeconds, double wMaxOctets) =>
        (C * Math.Pow(tSeconds - kSeconds, 3) * Mss) + wMaxOctets;

    // RFC 9438 eq. 2: K = ∛((W_max − cwnd_epoch) / C), in seconds.
    private static double K(double wMaxOctets, double cwndEpochOctets) => Math.Cbrt((wMaxOctets - cwndEpochOctets) / Mss / C);

    private static long Us(double seconds) => (long)Math.Round(seconds * 1_000_000);

    // A loss at a window of 100 segments, then the first ACK of congestion avoidance at the reduced window.
    private static TcpCubic AfterLossAt100Segments(out int cwnd, long epochUs)
    {
        var cubic = default(TcpCubic);
        int ssthresh = cubic.OnLoss(100 * Mss, Mss);
        Assert.Equal(70 * Mss, ssthresh);
        cwnd = cubic.OnAck(ssthresh, 0, Mss, epochUs, 0);
        return cubic;
    }

    [Fact]
    public void Loss_SsthreshIsBetaOfCwndInWholeSegments_AtLeastTwo()
    {
        // As Linux's bictcp_recalc_ssthresh: cwnd in whole segments (80,500 octets are 80), × 0.7, rounded down.
        var cubic = default(TcpCubic);
        Assert.Equal(56 * Mss, cubic.OnLoss(80_500, Mss));
        Assert.Equal(80_500, cubic.WindowMax);
        Assert.Equal(80_500, cubic.WindowPrior);
        Assert.Equal(2 * Mss, cubic.OnLoss(2000, Mss));
    }

    [Fact]
    public void K_IsWhereTheCubicReturnsToWMax()
    {
        TcpCubic cubic = AfterLossAt100Segments(out int cwnd, 5_000_000);
        Assert.Equal(70 * Mss, cwnd);
        // K = ∛(30 / 0.4) = ∛75 ≈ 4.2172 s; equally ∛(W_max·(1 − β)/C), as cwnd_epoch = β·W_max here.
        double k = K(100 * Mss, 70 * Mss);
        Assert.Equal(Math.Cbrt(100 * (1 - Beta) / C), k, 9);
        Assert.InRange(cubic.KUs, Us(k) - 1, Us(k) + 1);
        Assert.Equal(100 * Mss, cubic.Window(cubic.KUs, Mss));
        // At the epoch's start the curve is at cwnd_epoch (to the octet: K is rounded to the microsecond).
        Assert.InRange(cubic.Window(0, Mss), 70 * Mss - 1, 70 * Mss + 1);
    }

    [Theory]
    [InlineData(0.5)] // concave: below W_max, growth slowing down towards it
    [InlineData(2.0)]
    [InlineData(4.0)]
    [InlineData(5.0)] // convex: past K, above W_max, growth speeding up
    [InlineData(8.0)]
    [InlineData(12.0)]
    public void Window_FollowsTheCubicInBothRegions(double tSeconds)
    {
        TcpCubic cubic = AfterLossAt100Segments(out _, 5_000_000);
        double k = K(100 * Mss, 70 * Mss);
        double expected = Cubic(tSeconds, k, 100 * Mss);
        Assert.InRange(cubic.Window(Us(tSeconds), Mss), expected - 1.5, expected + 1.5);
        if (tSeconds < k)
            Assert.True(expected < 100 * Mss);
        else
            Assert.True(expected > 100 * Mss);
    }

    [Theory]
    [InlineData(1.0, 7_000)] // concave region
    [InlineData(3.5, 7_000)] // nearing W_max, growth slowing
    [InlineData(6.0, 14_000)] // convex region
    public void Ack_CwndMovesTowardsTheTargetOneRttAhead(double tSeconds, int acked)
    {
        // RFC 9438 §4.4: target = W_cubic(t + RTT) within [cwnd, 1.5·cwnd]; cwnd += (target − cwnd)/cwnd per segment
        // acknowledged, which is (target − cwnd) × acked / cwnd in octets.
        const double Rtt = 0.1;
        long epochUs = 5_000_000;
        TcpCubic cubic = AfterLossAt100Segments(out int cwnd, epochUs);
        double k = K(100 * Mss, 70 * Mss);
        // cwnd as it would stand at t (W_est stays far below: ACKs are rare here, so this is not the Reno-friendly region).
        cwnd = (int)Cubic(tSeconds, k, 100 * Mss);
        double target = Math.Clamp(Cubic(tSeconds + Rtt, k, 100 * Mss), cwnd, 1.5 * cwnd);
        int next = cubic.OnAck(cwnd, acked, Mss, epochUs + Us(tSeconds), Us(Rtt));
        double expected = cwnd + ((target - cwnd) * acked / cwnd);
        Assert.InRange(next, expected - 1.5, expected + 1);
        Assert.True(next > cwnd);
    }

    [Fact]
    public void Ack_FarIntoTheConvexRegion_TargetCappedAtOneAndAHalfCwnd()
    {
        long epochUs = 5_000_000;
        TcpCubic cubic = AfterLossAt100Segments(out _, epochUs);
        // 30 s in, W_cubic is near 10,000 segments: a whole window acknowledged grows cwnd to 1.5 × cwnd, no more.
        Assert.Equal(150 * Mss, cubic.OnAck(100 * Mss, 100 * Mss, Mss, epochUs + 30_000_000, 100_000));
    }

    [Fact]
    public void RenoFriendlyRegion_CwndFollowsWEst_AlphaThenOneAfterCwndPrior()
    {
        // A loss at 10 segments: cwnd_epoch = 7 segments, K = ∛(3/0.4) ≈ 1.96 s. With a 1 ms RTT Reno gains α_cubic =
        // 3(1 − β)/(1 + β) ≈ 0.529 segment per RTT while the cubic has barely moved from cwnd_epoch: cwnd follows W_est.
        var cubic = default(TcpCubic);
        int cwnd = cubic.OnLoss(10 * Mss, Mss);
        Assert.Equal(7 * Mss, cwnd);
        long now = 1_000_000;
        cwnd = cubic.OnAck(cwnd, 0, Mss, now, 1000);
        Assert.Equal(7 * Mss, cubic.Estimate);
        double alpha = 3 * (1 - Beta) / (1 + Beta);
        double estimate = 7 * Mss;
        for (int rtt = 1; rtt <= 12; rtt++)
        {
            now += 1000;
            // One ACK for the whole window: W_est += α (or 1, once W_est reached cwnd_prior) segments (RFC 9438 §4.3).
            estimate += (estimate >= 10 * Mss ? 1 : alpha) * Mss;
            cwnd = cubic.OnAck(cwnd, cwnd, Mss, now, 1000);
            Assert.InRange(cwnd, estimate - rtt, estimate + 1);
            Assert.Equal(cubic.Estimate, cwnd);
            Assert.True(cubic.Window(now - 1_000_000, Mss) < cwnd, "W_cubic(t) below W_est: the Reno-friendly region");
        }
        // 6 RTTs at α reach cwnd_prior (7 + 6 × 0.529 ≥ 10), the 6 after it add a segment each.
        Assert.InRange(cwnd, (7 + (6 * alpha) + 6) * Mss - 12, (7 + (6 * alpha) + 6) * Mss + 1);
    }

    [Fact]
    public void FastConvergence_LossBelowTheLastWMaxLowersIt()
    {
        var cubic = default(TcpCubic);
        cubic.OnLoss(100 * Mss, Mss);
        Assert.Equal(100 * Mss, cubic.WindowMax);
        // The next loss comes at 80 segments, short of the last W_max: W_max = 80 × (1 + β)/2 = 68 segments (§4.7),
        // and the new epoch's K is measured to that lower plateau.
        Assert.Equal(56 * Mss, cubic.OnLoss(80 * Mss, Mss));
        Assert.Equal(68 * Mss, cubic.WindowMax);
        Assert.Equal(80 * Mss, cubic.WindowPrior);
        cubic.OnAck(56 * Mss, 0, Mss, 1_000_000, 0);
        double k = K(68 * Mss, 56 * Mss);
        Assert.InRange(cubic.KUs, Us(k) - 1, Us(k) + 1);
        // A loss at or above W_max takes it as the new W_max.
        cubic.OnLoss(90 * Mss, Mss);
        Assert.Equal(90 * Mss, cubic.WindowMax);
    }

    [Fact]
    public void Timeout_NextEpochStartsWithKZeroAtItsOwnWindow()
    {
        // RFC 9438 §4.8: after a timeout the first congestion-avoidance stage has K = 0 and W_max = its starting window.
        var cubic = default(TcpCubic);
        cubic.OnLoss(100 * Mss, Mss);
        Assert.Equal(35 * Mss, cubic.OnTimeout(50 * Mss, Mss));
        Assert.Equal(0, cubic.WindowMax);
        int cwnd = cubic.OnAck(35 * Mss, 0, Mss, 2_000_000, 0);
        Assert.Equal(35 * Mss, cwnd);
        Assert.Equal(0, cubic.KUs);
        Assert.Equal(35 * Mss, cubic.WindowMax);
        double expected = Cubic(3, 0, 35 * Mss);
        Assert.InRange(cubic.Window(3_000_000, Mss), expected - 1, expected + 1);
    }

    [Fact]
    public void CubeRoot_IsTheIntegerFloor()
    {
        Assert.Equal(0, TcpCubic.CubeRoot(0));
        Assert.Equal(1, TcpCubic.CubeRoot(7));
        Assert.Equal(2, TcpCubic.CubeRoot(8));
        Assert.Equal(4_217_163, TcpCubic.CubeRoot((Int128)75 * 1_000_000_000_000_000_000));
        Int128 big = (Int128)1_000_000_000 * 1_000_000_000 * 1_000_000_000;
        Assert.Equal(1_000_000_000, TcpCubic.CubeRoot(big));
        Assert.Equal(999_999_999, TcpCubic.CubeRoot(big - 1));
    }
}
