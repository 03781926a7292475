using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Neighbors;

/// <summary>The neighbor table of one NIC for one protocol (ARP for IPv4, NDP for IPv6), with RFC 4861 NUD and queues for packets awaiting resolution.</summary>
/// <remarks>
/// <para>
/// Threading. Workers call <see cref="TryResolve"/> per packet: a lock-free read of a <see cref="ConcurrentDictionary{TKey, TValue}"/>
/// and two volatile fields of the entry, plus a racy recency stamp; no lock, no allocation, no <c>Interlocked</c>. The
/// one exception is the first use of a Stale entry, which takes the cache lock once to move it to Delay. A probe
/// (<see cref="HandleProbe"/>) from a neighbour already known with the same link address changes nothing and takes no
/// lock either. Everything else (<see cref="Resolve"/> when unresolved, confirmations, other probes, timers, static entries) mutates under one
/// cache-wide lock, and calls the <see cref="INeighborHandler{TAddress}"/> only after releasing it.
/// </para>
/// <para>
/// An entry is "usable" (readable by workers) when it has a link address and no queued packets are still being
/// flushed; while a resolution's queue is flushed, new packets queue behind it, so one neighbor's packets leave in
/// order. Recency for LRU eviction is an epoch that advances when an entry is created; a worker copies it into the
/// entry it uses, writing only when it changed so a hot entry's cache line stays shared.
/// </para>
/// </remarks>
public sealed partial class NeighborCache<TAddress>
    where TAddress : struct, IEquatable<TAddress>
{
    private readonly ConcurrentDictionary<TAddress, Entry> _entries = new();
    private readonly Lock _gate = new();
    private readonly IClock _clock;
    private readonly INeighborHandler<TAddress> _handler;
    private readonly NudConfiguration _config;
    // Entries with queued packets that are still resolving, oldest first (at most MaxPendingResolutions). Under _gate.
    private readonly List<Entry> _pending = [];
    private int _dynamicCount;     // under _gate
    private long _evictions;       // under _gate
    private long _epoch;           // written under _gate, read racily by workers
    // Bumped under _gate when what TryGetInfo reports about resolution changes; Effects.Run raises Changed once per operation.
    private long _version;
    private long _announcedVersion; // under _gate

    /// <summary>Creates an empty cache.</summary>
    public NeighborCache(IClock clock, INeighborHandler<TAddress> handler, NudConfiguration? configuration = null)
    {
        _clock = clock;
        _handler = handler;
        _config = configuration ?? NudConfiguration.Default;
    }

    /// <summary>
    /// Raised after an operation changed whether a neighbour resolves, its link address, or its queue's emptiness, or
    /// removed an entry; never under the cache's lock, on whichever thread made the change (a worker, the clock's thread
    /// or a control thread). Handlers must return quickly and may not assume a control thread.
    /// </summary>
    public event Action? Changed;

    /// <summary>A counter that grows with every change <see cref="Changed"/> reports.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>Dynamic entries (static ones are not counted against <see cref="NudConfiguration.MaxDynamicEntries"/>).</summary>
    public int DynamicCount
    {
        get
        {
            lock (_gate)
                return _dynamicCount;
        }
    }

    /// <summary>All entries, static included.</summary>
    public int Count => _entries.Count;

    /// <summary>Dynamic entries removed to make room for a new one (the cache was full): a flood of new neighbours shows here.</summary>
    public long Evictions
    {
        get
        {
            lock (_gate)
                return _evictions;
        }
    }

    /// <summary>The fast path: the link address of a usable neighbor, or false when the packet must go through <see cref="Resolve"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryResolve(TAddress address, out MacAddress linkAddress)
    {
        if (_entries.TryGetValue(address, out Entry? e) && e.Usable)
        {
            linkAddress = new MacAddress(Volatile.Read(ref e.LinkAddress));
            long epoch = Volatile.Read(ref _epoch);
            if (e.LastUsed != epoch)
                e.LastUsed = epoch;
            if (e.State == NeighborState.Stale)
                OnStaleUse(e);
            return true;
        }
        linkAddress = default;
        return false;
    }

    /// <summary>
    /// The link address of a usable neighbor, read lock-free and without <see cref="TryResolve"/>'s side effects (no
    /// recency stamp, no move from Stale to Delay): for telling a host where a neighbor is (an NDP Redirect's Target
    /// Link-Layer Address), not for sending to it.
    /// </summary>
    public bool TryPeekLinkAddress(TAddress address, out MacAddress linkAddress)
    {
        if (_entries.TryGetValue(address, out Entry? e) && e.Usable)
        {
            linkAddress = new MacAddress(Volatile.Read(ref e.LinkAddress));
            return true;
        }
        linkAddress = default;
        return false;
    }

    /// <summary>Resolves <paramref name="address"/>, or copies <paramref name="packet"/> into a pooled buffer and queues it until resolution ends.</summary>
    /// <returns>True with <paramref name="linkAddress"/> set when the neighbor is usable (the caller sends the packet itself); false when the packet was queued (and is later sent or failed through the handler).</returns>
    /// <param name="address">The neighbor: the route's gateway, or the destination when on-link.</param>
    /// <param name="packet">The packet to queue; it is copied, so the frame it lies in may be reused at once.</param>
    /// <param name="tag">Any value the caller wants back in <see cref="INeighborHandler{TAddress}.SendPending"/> or <see cref="INeighborHandler{TAddress}.PendingFailed"/>.</param>
    /// <param name="linkAddress">The neighbor's link address when the method returns true.</param>
    public bool Resolve(TAddress address, ReadOnlySpan<byte> packet, int tag, out MacAddress linkAddress)
    {
        if (TryResolve(address, out linkAddress))
            return true;
        var fx = new Effects();
        lock (_gate)
        {
            Entry e = GetOrCreate(address, ref fx);
            e.LastUsed = _epoch;
            if (e.Usable)
            {
                linkAddress = new MacAddress(e.LinkAddress);
                if (e.State == NeighborState.Stale)
                    EnterDelay(e);
                return true;
            }
            byte[] buffer = ArrayPool<byte>.Shared.Rent(packet.Length);
            packet.CopyTo(buffer);
            e.Queue ??= new Queue<PendingPacket>();
            bool startsResolution = e.Queue.Count == 0 && !e.Flushing && !_pending.Contains(e);
            if (e.Queue.Count == 0)
                Bump();
            e.Queue.Enqueue(new PendingPacket(buffer, packet.Length, tag));
            if (e.Queue.Count > _config.MaxPendingPacketsPerNeighbor)
                fx.Fail(e.Address, e.Queue.Dequeue(), PendingFailure.QueueFull);
            if (startsResolution && !e.Flushing)
            {
                _pending.Add(e);
                if (_pending.Count > _config.MaxPendingResolutions)
                {
                    Entry oldest = _pending[0];
                    _pending.RemoveAt(0);
                    FailQueue(oldest, PendingFailure.ResolutionCancelled, ref fx);
                }
            }
            if (e.State is NeighborState.Unknown or NeighborState.Unreachable)
                StartResolution(e, ref fx);
        }
        fx.Run(this);
        linkAddress = default;
        return false;
    }

    /// <summary>Handles a confirmation: an ARP reply, or a Neighbor Advertisement with its Solicited and Override flags (RFC 4861 §7.2.5).</summary>
    /// <remarks>
    /// A confirmation for an unknown neighbor is ignored. An unsolicited one (a gratuitous or broadcast ARP reply) never
    /// makes an entry Reachable: Incomplete becomes Stale. ARP callers pass <paramref name="solicited"/> true only for
    /// a unicast reply to us, and <paramref name="isOverride"/> true (ARP replies always update the cache).
    /// </remarks>
    /// <param name="address">The neighbor.</param>
    /// <param name="linkAddress">Its link address.</param>
    /// <param name="solicited">Whether the confirmation answers our probe.</param>
    /// <param name="isOverride">Whether it may replace a known link address.</param>
    /// <param name="worker">The stack worker that received it, or <see cref="NicStats.ControlWorker"/>: packets that waited are sent through it
    /// before it goes on with its batch, so they leave ahead of later packets to the same neighbor, as Linux sends its queue at once.</param>
    public void HandleConfirmation(TAddress address, MacAddress linkAddress, bool solicited, bool isOverride, int worker = NicStats.ControlWorker)
    {
        var fx = new Effects();
        lock (_gate)
        {
            if (!_entries.TryGetValue(address, out Entry? e))
                return;
            switch (e.State)
            {
                case NeighborState.Static:
                    return;
                case NeighborState.Unknown or NeighborState.Incomplete or NeighborState.Unreachable:
                    SetLinkAddress(e, linkAddress);
                    if (solicited)
                        EnterReachable(e);
                    else
                        EnterState(e, NeighborState.Stale);
                    Resolved(e, ref fx);
                    break;
                default:
                    bool differs = e.LinkAddress != linkAddress.Value;
                    if (differs && !isOverride)
                    {
                        // RFC 4861 §7.2.5: keep the old address, but stop trusting it.
                        if (e.State == NeighborState.Reachable)
                            EnterState(e, NeighborState.Stale);
                        break;
                    }
                    if (differs)
                        SetLinkAddress(e, linkAddress);
                    if (solicited)
                        EnterReachable(e);
                    else if (differs)
                        EnterState(e, NeighborState.Stale);
                    break;
            }
        }
        fx.Run(this, worker);
    }

    /// <summary>Handles a probe from a neighbor (an ARP request or Neighbor Solicitation carrying its link address): creates or updates a Stale entry (RFC 4861 §7.2.3).</summary>
    /// <param name="address">The neighbor.</param>
    /// <param name="linkAddress">Its link address.</param>
    /// <param name="worker">The stack worker that received the probe, or <see cref="NicStats.ControlWorker"/> (see <see cref="HandleConfirmation"/>).</param>
    public void HandleProbe(TAddress address, MacAddress linkAddress, int worker = NicStats.ControlWorker)
    {
        // The common case, a neighbour asking again (a load generator ARPs or solicits us over and over): it is
        // known with this very address and nothing would change, so the worker returns without the lock. The two
        // volatile reads see a state the entry really had; a change racing with them is ordered after this probe,
        // as it could be under the lock.
        if (_entries.TryGetValue(address, out Entry? known) && IsSettledFor(known, linkAddress.Value))
            return;
        UpdateFromProbe(address, linkAddress, worker);
    }

    // A probe that creates or changes an entry, under the lock: a method of its own so the IL scan of the worker path
    // can check HandleProbe's lock-free part and name this one as excluded (tests' WorkerPathExclusions).
    private void UpdateFromProbe(TAddress address, MacAddress linkAddress, int worker)
    {
        var fx = new Effects();
        lock (_gate)
        {
            Entry e = GetOrCreate(address, ref fx);
            switch (e.State)
            {
                case NeighborState.Static:
                    return;
                case NeighborState.Unknown or NeighborState.Incomplete or NeighborState.Unreachable:
                    SetLinkAddress(e, linkAddress);
                    EnterState(e, NeighborState.Stale);
                    Resolved(e, ref fx);
                    break;
                default:
                    if (e.LinkAddress != linkAddress.Value)
                    {
                        SetLinkAddress(e, linkAddress);
                        EnterState(e, NeighborState.Stale);
                    }
                    break;
            }
        }
        fx.Run(this, worker);
    }

    // For tests: lets one hold the cache's lock to show which calls do without it.
    internal Lock GateForTests => _gate;

    // True when a probe carrying linkAddress would leave the entry as it is: static, or resolved to the same address.
    private static bool IsSettledFor(Entry e, ulong linkAddress)
    {
        NeighborState state = e.State;
        if (state == NeighborState.Static)
            return true;
        return state is NeighborState.Reachable or NeighborState.Stale or NeighborState.Delay or NeighborState.Probe
            && Volatile.Read(ref e.LinkAddress) == linkAddress;
    }

    /// <summary>Adds or replaces a static entry; packets waiting for it are sent.</summary>
    public void AddStatic(TAddress address, MacAddress linkAddress)
    {
        var fx = new Effects();
        lock (_gate)
        {
            if (_entries.TryGetValue(address, out Entry? e))
            {
                if (e.State != NeighborState.Static)
                    _dynamicCount--;
            }
            else
            {
                e = new Entry(address);
                _entries[address] = e;
            }
            SetLinkAddress(e, linkAddress);
            EnterState(e, NeighborState.Static);
            Resolved(e, ref fx);
        }
        fx.Run(this);
    }

    /// <summary>Removes an entry, static or dynamic; its queued packets fail with <see cref="PendingFailure.EntryRemoved"/>.</summary>
    public bool Remove(TAddress address)
    {
        var fx = new Effects();
        bool removed;
        lock (_gate)
        {
            removed = _entries.TryGetValue(address, out Entry? e);
            if (removed)
                RemoveEntry(e!, ref fx);
        }
        fx.Run(this);
        return removed;
    }

    /// <summary>Removes every entry (gVisor clears the cache when a NIC is disabled).</summary>
    public void Clear()
    {
        var fx = new Effects();
        lock (_gate)
        {
            foreach (Entry e in _entries.Values)
                RemoveEntry(e, ref fx);
        }
        fx.Run(this);
    }

    /// <summary>A copy of one entry.</summary>
    public bool TryGetInfo(TAddress address, out NeighborInfo<TAddress> info)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(address, out Entry? e))
            {
                info = Info(e);
                return true;
            }
        }
        info = default;
        return false;
    }

    /// <summary>
    /// The link address <see cref="TryResolve"/> would hand out for <paramref name="address"/> without queueing, read
    /// without its side effects (no recency stamp, no move from Stale to Delay): for building forwarding snapshots.
    /// </summary>
    public bool TryGetResolved(TAddress address, out MacAddress linkAddress)
    {
        linkAddress = default;
        if (!TryGetInfo(address, out NeighborInfo<TAddress> info) || info.QueuedPackets != 0 || info.LinkAddress.IsZero)
            return false;
        if (info.State is not (NeighborState.Reachable or NeighborState.Stale or NeighborState.Delay or NeighborState.Probe or NeighborState.Static))
            return false;
        linkAddress = info.LinkAddress;
        return true;
    }

    /// <summary>Copies of all entries.</summary>
    public IReadOnlyList<NeighborInfo<TAddress>> Snapshot()
    {
        lock (_gate)
            return [.. _entries.Values.Select(Info)];
    }

    private static NeighborInfo<TAddress> Info(Entry e) =>
        new(e.Address, new MacAddress(e.LinkAddress), e.State, e.Queue?.Count ?? 0);

    private void OnStaleUse(Entry e)
    {
        lock (_gate)
        {
            if (e.State == NeighborState.Stale && !e.Removed)
                EnterDelay(e);
        }
    }

    private Entry GetOrCreate(TAddress address, ref Effects fx)
    {
        if (_entries.TryGetValue(address, out Entry? e))
            return e;
        if (_dynamicCount >= _config.MaxDynamicEntries)
            EvictLeastRecentlyUsed(ref fx);
        e = new Entry(address) { LastUsed = ++_epoch };
        Volatile.Write(ref _epoch, e.LastUsed);
        _entries[address] = e;
        _dynamicCount++;
        return e;
    }

    private void EvictLeastRecentlyUsed(ref Effects fx)
    {
        _evictions++;
        Entry? victim = null;
        foreach (Entry e in _entries.Values)
        {
            if (e.State != NeighborState.Static && (victim is null || e.LastUsed < victim.LastUsed))
                victim = e;
        }
        if (victim is not null)
            RemoveEntry(victim, ref fx);
    }

    private void RemoveEntry(Entry e, ref Effects fx)
    {
        Bump();
        e.Usable = false;
        e.Removed = true;
        CancelTimer(e);
        _pending.Remove(e);
        FailQueue(e, PendingFailure.EntryRemoved, ref fx);
        _entries.TryRemove(e.Address, out _);
        if (e.State != NeighborState.Static)
            _dynamicCount--;
    }

    private static void FailQueue(Entry e, PendingFailure reason, ref Effects fx)
    {
        if (e.Queue is null)
            return;
        while (e.Queue.TryDequeue(out PendingPacket p))
            fx.Fail(e.Address, p, reason);
    }

    private void SetLinkAddress(Entry e, MacAddress linkAddress)
    {
        if (e.LinkAddress != linkAddress.Value)
            Bump();
        Volatile.Write(ref e.LinkAddress, linkAddress.Value);
    }

    // Under _gate.
    private void Bump() => Volatile.Write(ref _version, _version + 1);

    private static bool IsResolvedState(NeighborState state) =>
        state is NeighborState.Reachable or NeighborState.Stale or NeighborState.Delay or NeighborState.Probe or NeighborState.Static;

    // Outside _gate, at the end of every operation: one Changed per operation that bumped the version.
    private void AnnounceChanges()
    {
        if (Changed is not { } changed)
            return;
        lock (_gate)
        {
            if (_announcedVersion == _version)
                return;
            _announcedVersion = _version;
        }
        changed();
    }

    private void StartResolution(Entry e, ref Effects fx)
    {
        EnterState(e, NeighborState.Incomplete);
        e.Usable = false;
        e.ProbesSent = 1;
        fx.Probe(e.Address, MacAddress.Zero);
        ScheduleTimer(e, _config.RetransmitTimer);
    }

    // The entry just got a link address: publish it to workers, or first flush the packets that waited for it.
    private void Resolved(Entry e, ref Effects fx)
    {
        _pending.Remove(e);
        if (e.Queue is { Count: > 0 } || e.Flushing)
        {
            if (!e.Flushing)
            {
                e.Flushing = true;
                fx.Flush(e);
            }
            return;
        }
        e.Usable = true;
    }

    private void EnterReachable(Entry e)
    {
        EnterState(e, NeighborState.Reachable);
        ScheduleTimer(e, _config.NextReachableTime());
    }

    private void EnterDelay(Entry e)
    {
        EnterState(e, NeighborState.Delay);
        ScheduleTimer(e, _config.DelayFirstProbeTime);
    }

    private void EnterState(Entry e, NeighborState state)
    {
        CancelTimer(e);
        if (IsResolvedState(e.State) != IsResolvedState(state))
            Bump();
        e.State = state;
    }

    private void ScheduleTimer(Entry e, TimeSpan delay)
    {
        CancelTimer(e);
        int generation = ++e.TimerGeneration;
        e.Timer = _clock.Schedule(delay, () => OnTimer(e, generation));
    }

    private static void CancelTimer(Entry e)
    {
        e.TimerGeneration++;
        e.Timer?.Cancel();
        e.Timer = null;
    }

    private void OnTimer(Entry e, int generation)
    {
        var fx = new Effects();
        lock (_gate)
        {
            // A timer cancelled while its callback was already queued finds a newer generation and does nothing.
            if (e.Removed || generation != e.TimerGeneration)
                return;
            e.Timer = null;
            switch (e.State)
            {
                case NeighborState.Incomplete when e.ProbesSent >= _config.MaxMulticastProbes:
                    EnterState(e, NeighborState.Unreachable);
                    e.Usable = false;
                    _pending.Remove(e);
                    FailQueue(e, PendingFailure.ResolutionFailed, ref fx);
                    break;
                case NeighborState.Incomplete:
                    e.ProbesSent++;
                    fx.Probe(e.Address, MacAddress.Zero);
                    ScheduleTimer(e, _config.RetransmitTimer);
                    break;
                case NeighborState.Reachable:
                    EnterState(e, NeighborState.Stale);
                    break;
                case NeighborState.Delay:
                    EnterState(e, NeighborState.Probe);
                    e.ProbesSent = 1;
                    fx.Probe(e.Address, new MacAddress(e.LinkAddress));
                    ScheduleTimer(e, _config.RetransmitTimer);
                    break;
                case NeighborState.Probe when e.ProbesSent >= _config.MaxUnicastProbes:
                    EnterState(e, NeighborState.Unreachable);
                    e.Usable = false;
                    break;
                case NeighborState.Probe:
                    e.ProbesSent++;
                    fx.Probe(e.Address, new MacAddress(e.LinkAddress));
                    ScheduleTimer(e, _config.RetransmitTimer);
                    break;
            }
        }
        fx.Run(this);
    }

    // Sends the queue in order, outside the lock; packets queued meanwhile are picked up before the entry is published.
    private void Flush(Entry e, int worker)
    {
        var batch = new List<PendingPacket>();
        while (true)
        {
            MacAddress linkAddress;
            lock (_gate)
            {
                bool stillResolved = !e.Removed && e.State is not (NeighborState.Unknown or NeighborState.Incomplete or NeighborState.Unreachable);
                if (!stillResolved || e.Queue is not { Count: > 0 })
                {
                    e.Flushing = false;
                    e.Usable = stillResolved;
                    Bump();
                    break;
                }
                while (e.Queue.TryDequeue(out PendingPacket p))
                    batch.Add(p);
                linkAddress = new MacAddress(e.LinkAddress);
            }
            int sent = 0;
            try
            {
                for (; sent < batch.Count; sent++)
                    _handler.SendPending(e.Address, linkAddress, batch[sent].Span, batch[sent].Tag, worker);
            }
            finally
            {
                // Every buffer goes back, also those after a handler that threw.
                foreach (PendingPacket p in batch)
                    ArrayPool<byte>.Shared.Return(p.Buffer);
            }
            batch.Clear();
        }
    }
}
