using System.Collections.Frozen;

namespace XdpStack.Stack.Transport;

/// <summary>One worker's immutable copy of the transport demux table: keys to the endpoints registered under them, grouped by NIC.</summary>
/// <remarks>
/// Built on a control thread and never changed after; exactly one worker reads it. Each worker gets
/// its own shard object, with its own dictionary and arrays, so a worker's lookups touch only memory
/// no other worker reads (the endpoints themselves excepted).
/// </remarks>
internal sealed class DemuxShard<TEndpoint>
    where TEndpoint : class
{
    private readonly FrozenDictionary<TransportEndpointId, Group[]> _table;

    public DemuxShard(IEnumerable<KeyValuePair<TransportEndpointId, List<TransportDemuxer<TEndpoint>.Binding>>> bindings)
    {
        var next = new Dictionary<TransportEndpointId, Group[]>();
        foreach ((TransportEndpointId id, List<TransportDemuxer<TEndpoint>.Binding> list) in bindings)
        {
            next[id] = list.GroupBy(b => b.Nic)
                .Select(g => new Group(g.Key, g.Select(b => b.Endpoint).ToArray()))
                .ToArray();
        }
        _table = next.ToFrozenDictionary();
    }

    /// <summary>Keys in the shard.</summary>
    public int Count => _table.Count;

    /// <summary>gVisor's lookup order: the full key, then without the local address, then without the remote side, then the port alone.</summary>
    public TEndpoint? Find(in TransportEndpointId id, NicId nic)
    {
        if (_table.Count == 0)
            return null;
        return Pick(id, nic, id)
            ?? Pick(id.WithoutLocalAddress, nic, id)
            ?? Pick(id.WithoutRemote, nic, id)
            ?? Pick(id.PortOnly, nic, id);
    }

    /// <summary>The first endpoint registered under exactly <paramref name="id"/> on any NIC, or null.</summary>
    public TEndpoint? FindExact(in TransportEndpointId id) =>
        _table.TryGetValue(id, out Group[]? groups) && groups.Length > 0 ? groups[0].Endpoints[0] : null;

    private TEndpoint? Pick(in TransportEndpointId key, NicId nic, in TransportEndpointId flow)
    {
        if (!_table.TryGetValue(key, out Group[]? groups))
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

    private sealed record Group(NicId Nic, TEndpoint[] Endpoints);
}
