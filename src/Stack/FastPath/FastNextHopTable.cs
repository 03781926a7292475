using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>Collects the distinct next hops of a snapshot being built; id 0 is the slow-path marker.</summary>
internal sealed class FastNextHopTable
{
    private readonly List<FastNextHop> _hops = [default];
    private readonly Dictionary<(int Nic, MacAddress Destination), int> _ids = [];

    /// <summary>The id of the hop out of <paramref name="egress"/> to <paramref name="destination"/>, added on first use.</summary>
    public int Intern(Nic egress, MacAddress destination)
    {
        if (!_ids.TryGetValue((egress.Id.Value, destination), out int id))
        {
            id = _hops.Count;
            _hops.Add(new FastNextHop(egress.Id.Value, egress.Link.LinkAddress, destination, egress.Link.Mtu));
            _ids.Add((egress.Id.Value, destination), id);
        }
        return id;
    }

    /// <summary>The number of hops, the marker included.</summary>
    public int Count => _hops.Count;

    /// <summary>The hop with id <paramref name="id"/>.</summary>
    public FastNextHop this[int id] => _hops[id];

    /// <summary>Forgets the hops of id <paramref name="count"/> and up (an update that was abandoned).</summary>
    public void Truncate(int count)
    {
        for (int id = count; id < _hops.Count; id++)
            _ids.Remove((_hops[id].Nic, _hops[id].Destination));
        _hops.RemoveRange(count, _hops.Count - count);
    }

    /// <summary>The hops by id.</summary>
    public FastNextHop[] ToArray() => [.. _hops];
}
