using System.Diagnostics;

namespace XdpStack.Stack;

/// <summary>The real <see cref="IClock"/>: <see cref="Stopwatch"/> time and <see cref="System.Threading.Timer"/> callbacks on the thread pool.</summary>
public sealed class SystemClock : IClock
{
    private readonly long _origin = Stopwatch.GetTimestamp();

    /// <summary>The shared instance.</summary>
    public static SystemClock Instance { get; } = new();

    public TimeSpan Now => Stopwatch.GetElapsedTime(_origin);

    public IClockTimer Schedule(TimeSpan delay, Action callback) => new OneShot(this, delay, callback);

    private sealed class OneShot : IClockTimer
    {
        private readonly Timer _timer;
        private int _state;   // 0 pending, 1 fired or cancelled

        public OneShot(SystemClock clock, TimeSpan delay, Action callback)
        {
            if (delay < TimeSpan.Zero)
                delay = TimeSpan.Zero;
            TimeSpan due = clock.Now + delay;
            _timer = new Timer(_ =>
            {
                // System.Threading.Timer counts in coarse milliseconds and can fire a little before
                // the Stopwatch says the delay is over; callers (NUD timers) rely on "not before",
                // so re-arm for what is left.
                TimeSpan left = due - clock.Now;
                if (left > TimeSpan.Zero)
                {
                    try
                    {
                        if (Volatile.Read(ref _state) == 0)
                            _timer!.Change(TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)), Timeout.InfiniteTimeSpan);
                    }
                    catch (ObjectDisposedException)
                    {
                        // Cancelled between the check and the re-arm: nothing left to do.
                    }
                    return;
                }
                if (Interlocked.Exchange(ref _state, 1) == 0)
                {
                    _timer!.Dispose();
                    callback();
                }
            }, null, Timeout.Infinite, Timeout.Infinite);
            // Armed only after _timer is assigned, so a zero delay cannot fire before the field is set.
            _timer.Change(delay, Timeout.InfiniteTimeSpan);
        }

        public bool Cancel()
        {
            if (Interlocked.Exchange(ref _state, 1) != 0)
                return false;
            _timer.Dispose();
            return true;
        }
    }
}
