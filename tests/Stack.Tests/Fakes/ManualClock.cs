using XdpStack.Stack;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>A clock that moves only when a test calls <see cref="Advance"/>, firing due timers in order on the caller's thread (gVisor faketime.ManualClock).</summary>
internal sealed class ManualClock : IClock
{
    private readonly List<Timer> _timers = [];
    private long _sequence;

    public TimeSpan Now { get; private set; }

    public int PendingTimers => _timers.Count;

    public IClockTimer Schedule(TimeSpan delay, Action callback)
    {
        var timer = new Timer(this, Now + delay, _sequence++, callback);
        _timers.Add(timer);
        return timer;
    }

    /// <summary>Moves time forward by <paramref name="by"/>, running each timer at its own due time, including timers those callbacks schedule.</summary>
    public void Advance(TimeSpan by)
    {
        TimeSpan target = Now + by;
        while (true)
        {
            Timer? next = _timers.Where(t => t.Due <= target).OrderBy(t => t.Due).ThenBy(t => t.Sequence).FirstOrDefault();
            if (next is null)
                break;
            _timers.Remove(next);
            Now = next.Due;
            next.Callback();
        }
        Now = target;
    }

    public void AdvanceTo(TimeSpan time) => Advance(time - Now);

    private sealed class Timer(ManualClock clock, TimeSpan due, long sequence, Action callback) : IClockTimer
    {
        public TimeSpan Due { get; } = due;

        public long Sequence { get; } = sequence;

        public Action Callback { get; } = callback;

        public bool Cancel() => clock._timers.Remove(this);
    }
}
