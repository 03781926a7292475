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

    /// <summary>The hops by id.</summary>
    public FastNextHop[] ToArray() => [.. _hops];
}
