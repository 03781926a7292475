using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Transport;

/// <summary>Maps transport endpoint keys to endpoints with gVisor's lookup order, device binding and reuse-port groups; each worker reads its own immutable shard.</summary>
/// <remarks>
/// <para>
/// Registration runs on control threads under a lock. Every change builds one new
/// <see cref="DemuxShard{TEndpoint}"/> per worker, a separate copy each, and publishes it into that
/// worker's slot with one <see cref="Volatile.Write{T}(ref T, T)"/>; <see cref="Register"/> and
/// <see cref="Unregister"/> return only after every worker's slot holds the new table. A worker
/// reads its own slot once per lookup and looks up without locking or allocating. Copying the
/// table once per worker is cheap where it matters: registration is a control operation (bind,
/// connect, close), rare next to the packets that read the table, and a copy per worker means no two
/// cores ever read the same dictionary, array or slot cache line, so a lookup never pulls a line
/// another core's lookups also keep hot, and a publish invalidates each worker's line once.
/// </para>
/// <para>
/// Lookup tries the full key, then without the local address, then without the remote address and
/// port, then the port alone. Within a key the endpoints bound to the receiving NIC win over
/// unbound ones (NIC 0, behaviour 24), and a reuse-port group is split by <see cref="FlowHash"/>
/// (behaviour 23), the same way in every shard, so a flow picks the same endpoint on any worker.
/// </para>
/// <para>
/// The same key may be registered again only on another NIC, or when both registrations ask for
/// reuse-port; anything else is <see cref="StackError.PortInUse"/> (behaviour 22).
/// </para>
/// </remarks>
public sealed class TransportDemuxer<TEndpoint>
    where TEndpoint : class
{
    private readonly Lock _lock = new();

    // Control threads only, under _lock.
    private readonly Dictionary<TransportEndpointId, List<Binding>> _bindings = [];

    // Slot w: written by control threads under _lock with Volatile.Write, read by worker w only.
    private readonly ShardSlot[] _slots;

    /// <summary>Creates an empty demuxer for <paramref name="workers"/> workers (the stack's <see cref="NetworkStack.Workers"/>).</summary>
    public TransportDemuxer(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _slots = new ShardSlot[workers];
        for (int w = 0; w < workers; w++)
            _slots[w].Shard = new DemuxShard<TEndpoint>([]);
    }

    /// <summary>The number of workers, each with its own shard.</summary>
    public int Workers => _slots.Length;

    /// <summary>Registers <paramref name="endpoint"/> under <paramref name="id"/> on <paramref name="nic"/> (<see cref="NicId.Any"/>: unbound); every worker sees it once this returns.</summary>
    public StackError Register(TransportEndpointId id, NicId nic, TEndpoint endpoint, bool reusePort)
    {
        lock (_lock)
        {
            if (!_bindings.TryGetValue(id, out List<Binding>? list))
                _bindings[id] = list = [];
            foreach (Binding b in list)
            {
                if (b.Nic == nic && !(b.ReusePort && reusePort))
                    return StackError.PortInUse;
            }
            list.Add(new Binding(endpoint, nic, reusePort));
            PublishLocked();
            return StackError.None;
        }
    }

    /// <summary>Removes one registration; false if it was not there. No worker finds it once this returns.</summary>
    public bool Unregister(TransportEndpointId id, NicId nic, TEndpoint endpoint)
    {
        lock (_lock)
        {
            if (!_bindings.TryGetValue(id, out List<Binding>? list))
                return false;
            int removed = list.RemoveAll(b => b.Nic == nic && ReferenceEquals(b.Endpoint, endpoint));
            if (list.Count == 0)
                _bindings.Remove(id);
            if (removed > 0)
                PublishLocked();
            return removed > 0;
        }
    }

    /// <summary>True if any registration uses <paramref name="port"/> of <paramref name="network"/>, whatever its addresses.</summary>
    public bool IsPortUsed(Wire.EtherType network, ushort port)
    {
        lock (_lock)
        {
            foreach (TransportEndpointId id in _bindings.Keys)
            {
                if (id.Network == network && id.LocalPort == port)
                    return true;
            }
            return false;
        }
    }

    /// <summary>Finds, in <paramref name="worker"/>'s shard, the endpoint for a received packet's key (its local side is the packet's destination), or null.</summary>
    public TEndpoint? Find(int worker, in TransportEndpointId id, NicId nic) =>
        Volatile.Read(ref _slots[worker].Shard)!.Find(id, nic);

    /// <summary>Finds, in <paramref name="worker"/>'s shard, an endpoint registered under exactly <paramref name="id"/> (any NIC), for ICMP errors about datagrams we sent.</summary>
    public TEndpoint? FindExact(int worker, in TransportEndpointId id) =>
        Volatile.Read(ref _slots[worker].Shard)!.FindExact(id);

    // For tests: the shard object worker w reads now, and the stride between two workers' slots.
    internal object ShardOf(int worker) => Volatile.Read(ref _slots[worker].Shard)!;

    internal static int SlotSize => Unsafe.SizeOf<ShardSlot>();

    private void PublishLocked()
    {
        // A separate build per worker, not one table shared by reference (see the remarks).
        for (int w = 0; w < _slots.Length; w++)
            Volatile.Write(ref _slots[w].Shard, new DemuxShard<TEndpoint>(_bindings));
    }

    internal readonly record struct Binding(TEndpoint Endpoint, NicId Nic, bool ReusePort);

    // 128 bytes per slot, so two workers' references always lie in different 128-byte blocks: no
    // shared cache line, nor a pair the adjacent-line prefetcher fetches together. Only the stride
    // matters, since the reference is the only field ever written, so the padding sets the size and
    // not the reference's offset.
    private struct ShardSlot
    {
        public DemuxShard<TEndpoint>? Shard;
#pragma warning disable CS0169 // Never read or written: it only takes up space.
        private SlotPadding _padding;
#pragma warning restore CS0169
    }

    [InlineArray(15)]
    private struct SlotPadding
    {
        private long _element;
    }
}
