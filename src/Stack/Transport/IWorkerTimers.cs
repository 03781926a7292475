namespace XdpStack.Stack.Transport;

/// <summary>A transport whose timers run on the workers that own its state (TCP's retransmission, delayed-ACK and TIME_WAIT timers), polled by <see cref="NetworkStack.PollTimers"/>.</summary>
/// <remarks>
/// A worker calls <see cref="PollTimers"/> between batches, on its own thread, so timer work touches only
/// that worker's connections: no lock, no hand-off. An implementation must return at once when nothing is
/// due, since the worker calls it every round.
/// </remarks>
public interface IWorkerTimers
{
    /// <summary>Runs the timers of <paramref name="worker"/> that are due now.</summary>
    void PollTimers(int worker);

    /// <summary>Microseconds until a timer of <paramref name="worker"/> may fall due, at most <paramref name="horizonUs"/> (which a transport without a sooner one returns): how long an idle worker may sleep.</summary>
    long MicrosecondsUntilNextTimer(int worker, long horizonUs) => horizonUs;
}
