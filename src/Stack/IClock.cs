namespace XdpStack.Stack;

/// <summary>Monotonic time and one-shot timers for the control path, so tests can drive protocol timers with a manual clock.</summary>
/// <remarks>
/// Modelled on gVisor's <c>tcpip.Clock</c> (<c>NowMonotonic</c>, <c>AfterFunc</c>) and <c>faketime.ManualClock</c>.
/// Timer callbacks run on a clock-owned thread (the thread pool for <see cref="SystemClock"/>, the caller of
/// <c>Advance</c> for a manual clock), never on a data-path worker.
/// </remarks>
public interface IClock
{
    /// <summary>Time since an arbitrary fixed origin; never goes backwards.</summary>
    TimeSpan Now { get; }

    /// <summary>Runs <paramref name="callback"/> once, <paramref name="delay"/> from now, unless the returned timer is cancelled first.</summary>
    IClockTimer Schedule(TimeSpan delay, Action callback);
}
