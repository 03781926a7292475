using XdpStack.Stack.Network;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Stack.Tests.Network;

public class IcmpPeerLimiterTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void OneDestination_SixAtOnceThenOneAnIntervalSavingUpSixAtMost()
    {
        var clock = new ManualClock();
        var limiter = new IcmpPeerLimiter(clock, workers: 1, seed: 7);
        Assert.Equal(6, Allowed(limiter, 0, 0, 0xC612_0001, 20));
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0, Allowed(limiter, 0, 0, 0xC612_0001, 5));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, Allowed(limiter, 0, 0, 0xC612_0001, 5));
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(6, Allowed(limiter, 0, 0, 0xC612_0001, 20));
    }

    [Fact]
    public void FiftyDestinations_EachGetsItsOwnSix_AndWorkersKeepSeparateTables()
    {
        var clock = new ManualClock();
        var limiter = new IcmpPeerLimiter(clock, workers: 2, seed: 0x5EED);
        for (ulong d = 0; d < 50; d++)
            Assert.Equal(6, Allowed(limiter, 0, 0x2001_0002_0000_0001, d, 10));
        // Worker 1 and the control threads have credit of their own for the same destinations.
        Assert.Equal(6, Allowed(limiter, 1, 0x2001_0002_0000_0001, 3, 10));
        Assert.Equal(6, Allowed(limiter, -1, 0x2001_0002_0000_0001, 3, 10));
    }

    [Fact]
    public void TenThousandDestinations_NoneGetsMoreThanSix_AndTheTableBoundsTheTotal()
    {
        // More destinations than slots: sharing may give some fewer errors than Linux would, never more.
        var clock = new ManualClock();
        var limiter = new IcmpPeerLimiter(clock, workers: 1, seed: 99);
        var allowed = new int[10_000];
        for (int round = 0; round < 8; round++)
        {
            for (int d = 0; d < allowed.Length; d++)
                allowed[d] += limiter.TryTake(0, 0, (ulong)d, Second) ? 1 : 0;
        }
        Assert.All(allowed, a => Assert.InRange(a, 0, 6));
        Assert.True(allowed.Sum() <= 1024 * 6, $"{allowed.Sum()} errors allowed");
        // Once every destination has been idle for six intervals, each may have its slot again.
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.True(limiter.TryTake(0, 0, 123_456_789, Second));
    }

    [Fact]
    public void ZeroInterval_TurnsTheLimitOff()
    {
        var limiter = new IcmpPeerLimiter(new ManualClock(), workers: 1);
        Assert.Equal(1000, Allowed(limiter, 0, 0, 1, 1000, TimeSpan.Zero));
    }

    private static int Allowed(IcmpPeerLimiter limiter, int worker, ulong high, ulong low, int attempts, TimeSpan? interval = null)
    {
        int allowed = 0;
        for (int i = 0; i < attempts; i++)
            allowed += limiter.TryTake(worker, high, low, interval ?? Second) ? 1 : 0;
        return allowed;
    }
}
