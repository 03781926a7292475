using XdpStack.Stack;

namespace XdpStack.Fuzz.Router;

/// <summary>A clock that moves only when told, firing due timers in order (as the tests' ManualClock), so runs are repeatable.</summary>
internal sealed class ManualClock : IClock
{
    private readonly List<Timer> _timers = [];
    private long _sequence;

    public TimeSpan Now { get; private set; }

    public IClockTimer Schedule(TimeSpan delay, Action callback)
    {
        var timer = new Timer(this, Now + delay, _sequence++, callback);
        _timers.Add(timer);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        TimeSpan target = Now + by;
        while (true)
        {
            Timer? next = null;
            foreach (Timer t in _timers)
            {
                if (t.Due <= target && (next is null || t.Due < next.Due || (t.Due == next.Due && t.Sequence < next.Sequence)))
                    next = t;
            }
            if (next is null)
                break;
            _timers.Remove(next);
            Now = next.Due;
            next.Callback();
        }
        Now = target;
    }

    private sealed class Timer(ManualClock clock, TimeSpan due, long sequence, Action callback) : IClockTimer
    {
        public TimeSpan Due { get; } = due;

        public long Sequence { get; } = sequence;

        public Action Callback { get; } = callback;

        public bool Cancel() => clock._timers.Remove(this);
    }
}
