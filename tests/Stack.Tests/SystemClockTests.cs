namespace XdpStack.Stack.Tests;

public class SystemClockTests
{
    [Fact]
    public void Schedule_ShortDelay_FiresOnceAfterTheDelay()
    {
        TimeSpan start = SystemClock.Instance.Now;
        using var fired = new ManualResetEventSlim();
        TimeSpan firedAt = default;
        IClockTimer timer = SystemClock.Instance.Schedule(TimeSpan.FromMilliseconds(20), () =>
        {
            firedAt = SystemClock.Instance.Now;
            fired.Set();
        });
        Assert.True(fired.Wait(TimeSpan.FromSeconds(10)));
        Assert.True(firedAt - start >= TimeSpan.FromMilliseconds(19));
        Assert.False(timer.Cancel());
    }

    [Fact]
    public void Cancel_BeforeDue_PreventsTheCallback()
    {
        int calls = 0;
        IClockTimer timer = SystemClock.Instance.Schedule(TimeSpan.FromMilliseconds(50), () => Interlocked.Increment(ref calls));
        Assert.True(timer.Cancel());
        Assert.False(timer.Cancel());
        Thread.Sleep(200);
        Assert.Equal(0, Volatile.Read(ref calls));
    }

    [Fact]
    public void Now_Repeated_NeverGoesBackwards()
    {
        TimeSpan previous = SystemClock.Instance.Now;
        for (int i = 0; i < 10_000; i++)
        {
            TimeSpan now = SystemClock.Instance.Now;
            Assert.True(now >= previous);
            previous = now;
        }
    }
}
