using System.Collections.Frozen;

namespace XdpStack.Stack.Transport;

/// <summary>Maps transport endpoint keys to endpoints with gVisor's lookup order, device binding and reuse-port groups; workers read an immutable snapshot.</summary>
/// <remarks>
/// <para>
/// Registration runs on control threads under a lock and publishes a new frozen snapshot with one
/// <see cref="Volatile.Write{T}(ref T, T)"/>; a worker reads the reference once per packet and
/// looks up without locking or allocating. Lookup tries the full key, then without the local
/// address, then without the remote address and port, then the port alone. Within a key the
/// endpoints bound to the receiving NIC win over unbound ones (NIC 0, behaviour 24), and a
/// reuse-port group is split by <see cref="FlowHash"/> (behaviour 23).
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
    private readonly Dictionary<TransportEndpointId, List<Binding>> _bindings = [];
    private FrozenDictionary<TransportEndpointId, Group[]> _snapshot = FrozenDictionary<TransportEndpointId, Group[]>.Empty;

    /// <summary>Registers <paramref name="endpoint"/> under <paramref name="id"/> on <paramref name="nic"/> (<see cref="NicId.Any"/>: unbound).</summary>
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

    /// <summary>Removes one registration; false if it was not there.</summary>
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

    /// <summary>Finds the endpoint for a received packet's key (its local side is the packet's destination), or null.</summary>
    public TEndpoint? Find(in TransportEndpointId id, NicId nic)
    {
        FrozenDictionary<TransportEndpointId, Group[]> snapshot = Volatile.Read(ref _snapshot);
        if (snapshot.Count == 0)
            return null;
        return Pick(snapshot, id, nic, id)
            ?? Pick(snapshot, id.WithoutLocalAddress, nic, id)
            ?? Pick(snapshot, id.WithoutRemote, nic, id)
            ?? Pick(snapshot, id.PortOnly, nic, id);
    }

    /// <summary>Finds an endpoint registered under exactly <paramref name="id"/> (any NIC), for ICMP errors about datagrams we sent.</summary>
    public TEndpoint? FindExact(in TransportEndpointId id)
    {
        FrozenDictionary<TransportEndpointId, Group[]> snapshot = Volatile.Read(ref _snapshot);
        return snapshot.TryGetValue(id, out Group[]? groups) && groups.Length > 0 ? groups[0].Endpoints[0] : null;
    }

    private static TEndpoint? Pick(FrozenDictionary<TransportEndpointId, Group[]> snapshot, in TransportEndpointId key, NicId nic, in TransportEndpointId flow)
    {
        if (!snapshot.TryGetValue(key, out Group[]? groups))
            return null;
        TEndpoint[]? chosen = null;
        foreach (Group g in groups)
        {
            if (g.Nic == nic)
            {
                chosen = g.Endpoints;
                break;
            }
            if (g.Nic.IsAny)
                chosen = g.Endpoints;
        }
        if (chosen is null)
            return null;
        return chosen.Length == 1 ? chosen[0] : chosen[FlowHash.Compute(flow) % (uint)chosen.Length];
    }

    private void PublishLocked()
    {
        var next = new Dictionary<TransportEndpointId, Group[]>();
        foreach ((TransportEndpointId id, List<Binding> list) in _bindings)
        {
            next[id] = list.GroupBy(b => b.Nic)
                .Select(g => new Group(g.Key, g.Select(b => b.Endpoint).ToArray()))
                .ToArray();
        }
        Volatile.Write(ref _snapshot, next.ToFrozenDictionary());
    }

    private readonly record struct Binding(TEndpoint Endpoint, NicId Nic, bool ReusePort);

    private sealed record Group(NicId Nic, TEndpoint[] Endpoints);
}
