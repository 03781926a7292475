namespace XdpStack.Stack.Transport.Tcp;

public sealed partial class TcpSocket
{
    /// <summary>Where one side of the application (the reader, or the writer and the control calls) parks until the worker wakes it.</summary>
    /// <remarks>
    /// The worker releases the semaphore only when it sees the waiting flag (one volatile read otherwise). The semaphore is
    /// awaited without a timeout or token: a timed or cancellable wait completes through a promise that the releasing
    /// thread allocates for (32 bytes per wake, measured), and the releasing thread is the worker. A wake-up lost to the
    /// flag's race is bounded by this side's one-shot timer instead. Reader, writer and the control calls each have their
    /// own, so one wake or one timer never serves another.
    /// </remarks>
    private sealed class Waiter
    {
        private static readonly TimeSpan s_missedWakeupBound = TimeSpan.FromMilliseconds(2);

        private readonly SemaphoreSlim _signal = new(0);
        private volatile bool _waiting;

        // Application side: made at the first wait, off the worker.
        private Timer? _watchdog;
        private volatile bool _watchdogFired;

        /// <summary>Parks until woken, the timer fires or the token is cancelled; true when the timer ended the wait (a wake-up may have been lost).</summary>
        public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
        {
            Timer watchdog = _watchdog ??= new Timer(static s => ((Waiter)s!).OnWatchdog(), this, Timeout.Infinite, Timeout.Infinite);
            _watchdogFired = false;
            _waiting = true;
            watchdog.Change(s_missedWakeupBound, Timeout.InfiniteTimeSpan);
            CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
                ? cancellationToken.Register(static s => ((Waiter)s!).OnWatchdog(), this)
                : default;
            try
            {
                await _signal.WaitAsync().ConfigureAwait(false);
            }
            finally
            {
                await registration.DisposeAsync().ConfigureAwait(false);
            }
            _waiting = false;
            cancellationToken.ThrowIfCancellationRequested();
            if (_watchdogFired)
                return true;
            watchdog.Change(Timeout.Infinite, Timeout.Infinite);
            return false;
        }

        /// <summary>Worker: wakes the parked side, if there is one.</summary>
        public void Wake()
        {
            if (_waiting)
                WakeParked();
        }

        // Only when the application is parked (or the connection ended): the semaphore's own lock is off the per-segment
        // path (a method of its own so the IL scan of the worker path can name it as excluded, in WorkerPathExclusions).
        public void WakeParked()
        {
            _waiting = false;
            _signal.Release();
        }

        // Application side (a timer thread, or the canceller): an extra release only makes the next wait return at once.
        private void OnWatchdog()
        {
            _watchdogFired = true;
            _signal.Release();
        }
    }
}
