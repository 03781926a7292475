namespace XdpStack.Stack.FastPath;

/// <summary>Keeps one fast path's forwarding snapshot in step with a <see cref="NetworkStack"/>: rebuilds it, debounced on the stack's clock, after every forwarding or neighbour change until disposed.</summary>
/// <remarks>
/// <para>
/// Every change schedules one rebuild on the stack's clock, so a burst of changes (100,000 routes added one by
/// one, a storm of ARP or NDP replies) costs one rebuild and workers never build. Until that rebuild is published,
/// a batch whose snapshot is older than the stack's <see cref="NetworkStack.ForwardingVersion"/> (route, address,
/// NIC or forwarder changes) must go to the full stack whole, which <see cref="IsCurrent"/> tells, so those changes
/// hold from the moment the control call returns. Neighbour changes do not bump that version (they come from
/// workers, and would stall the fast path on every ARP refresh): a new or changed MAC is used from the rebuild on.
/// </para>
/// <para>
/// A batch reads <see cref="Current"/> once: one volatile read of a field of this sealed type, with no delegate or
/// interface call. The delegates are only called off the data path, to build and to (un)subscribe.
/// </para>
/// </remarks>
internal sealed class SnapshotFollower<TSnapshot> : IDisposable
    where TSnapshot : class
{
    private readonly NetworkStack _stack;
    private readonly Func<NetworkStack, TSnapshot> _build;
    private readonly Action<NetworkStack, Action> _unsubscribeNeighbors;
    private readonly Lock _refreshGate = new();
    private readonly Action _onChanged;
    private TSnapshot _current;
    // Separate from _refreshGate so a worker reporting a neighbour change never waits for a build.
    private readonly Lock _scheduleGate = new();
    private bool _rebuildScheduled; // under _scheduleGate
    private bool _disposed;         // written under both gates

    /// <summary>Subscribes to <paramref name="stack"/>'s forwarding changes and, through <paramref name="subscribeNeighbors"/>, to its neighbour changes of one family, then builds the first snapshot with <paramref name="build"/>.</summary>
    public SnapshotFollower(NetworkStack stack, Func<NetworkStack, TSnapshot> build,
        Action<NetworkStack, Action> subscribeNeighbors, Action<NetworkStack, Action> unsubscribeNeighbors)
    {
        _stack = stack;
        _build = build;
        _unsubscribeNeighbors = unsubscribeNeighbors;
        _onChanged = ScheduleRefresh;
        // Subscribed before the first build, so no change can fall between the build and the subscription.
        stack.ForwardingStateChanged += _onChanged;
        subscribeNeighbors(stack, _onChanged);
        _current = build(stack);
    }

    /// <summary>The snapshot published last.</summary>
    public TSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Whether a snapshot built at <paramref name="stateVersion"/> still holds every route, address, NIC and forwarder change; a batch whose snapshot does not goes to the full stack whole.</summary>
    public bool IsCurrent(long stateVersion) => stateVersion == _stack.ForwardingVersion;

    /// <summary>Builds a snapshot from the stack now and publishes it, unless disposed.</summary>
    /// <remarks>Builds are serialised, so the snapshot published last is built from the newest state.</remarks>
    public void Refresh()
    {
        lock (_refreshGate)
        {
            if (_disposed)
                return;
            Volatile.Write(ref _current, _build(_stack));
        }
    }

    /// <summary>Stops following the stack: the last snapshot stays published.</summary>
    public void Dispose()
    {
        _stack.ForwardingStateChanged -= _onChanged;
        _unsubscribeNeighbors(_stack, _onChanged);
        lock (_refreshGate)
        {
            lock (_scheduleGate)
                _disposed = true;
        }
    }

    // Called on any thread, workers included: only the clock's thread rebuilds, once for all changes until then.
    private void ScheduleRefresh()
    {
        lock (_scheduleGate)
        {
            if (_rebuildScheduled || _disposed)
                return;
            _rebuildScheduled = true;
        }
        _stack.Clock.Schedule(TimeSpan.Zero, RefreshScheduled);
    }

    private void RefreshScheduled()
    {
        // Cleared before building: a change during the build schedules another rebuild.
        lock (_scheduleGate)
            _rebuildScheduled = false;
        Refresh();
    }
}
