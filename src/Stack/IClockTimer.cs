namespace XdpStack.Stack;

/// <summary>A pending one-shot timer from <see cref="IClock.Schedule"/>.</summary>
public interface IClockTimer
{
    /// <summary>Stops the timer; returns false when it already fired or was cancelled. A callback already running is not stopped, so callers must also check, under their own lock, that the timer is still the current one.</summary>
    bool Cancel();
}
