using System.Runtime.CompilerServices;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

public sealed partial class RouteTable
{
    private readonly Ipv4Route[] _v4;
    private readonly int[] _v4First;    // prefix id -> position of its first route in _v4
    private readonly PersistentIpv4Lpm? _v4Lpm;
    private readonly int[] _v4GroupOf;          // position -> index into _v4Groups, or -1; empty when there are no groups
    private readonly MultipathGroup[] _v4Groups;   // null: scan _v4

    /// <summary>The IPv4 routes in lookup order.</summary>
    public IReadOnlyList<Ipv4Route> Ipv4Routes => _v4;

    /// <summary>The IPv4 LPM behind lookups, or null when the table is small enough to scan.</summary>
    public PersistentIpv4Lpm? Ipv4Lpm => _v4Lpm;

    /// <summary>The best IPv4 route to <paramref name="destination"/> whatever the NIC's state, or null.</summary>
    public Ipv4Route? Lookup(Ipv4Address destination) => Lookup(destination, default(NicFilters.Any));

    /// <summary>The best IPv4 route to <paramref name="destination"/> through a NIC that <paramref name="isNicUsable"/> accepts, or null.</summary>
    public Ipv4Route? Lookup(Ipv4Address destination, Func<int, bool> isNicUsable) =>
        Lookup(destination, new NicFilters.Predicate(isNicUsable));

    /// <summary>The best IPv4 route to <paramref name="destination"/> through a NIC that <paramref name="filter"/> accepts, or null; of a multipath group, its first usable member.</summary>
    public Ipv4Route? Lookup<TFilter>(Ipv4Address destination, TFilter filter)
        where TFilter : INicFilter, allows ref struct
    {
        int i = FirstUsable(destination, filter);
        return i < 0 ? null : _v4[i];
    }

    /// <summary>The route a flow with hash <paramref name="flowHash"/> (from <see cref="Multipath"/>) to <paramref name="destination"/> takes through a NIC that <paramref name="filter"/> accepts, or null.</summary>
    /// <remarks>The full stack's per-packet lookup: of a multipath group the hash picks the member, as the fast paths' snapshots do.</remarks>
    public Ipv4Route? Lookup<TFilter>(Ipv4Address destination, uint flowHash, TFilter filter)
        where TFilter : INicFilter, allows ref struct
    {
        int i = FirstUsable(destination, filter);
        if (i < 0)
            return null;
        int[] groupOf = _v4GroupOf;
        if ((uint)i < (uint)groupOf.Length && groupOf[i] >= 0)
        {
            // A route past the group's member limit may be the first usable one; it then carries the flow itself.
            int chosen = _v4Groups[groupOf[i]].PositionFor(flowHash, filter);
            if (chosen >= 0)
                i = chosen;
        }
        return _v4[i];
    }

    /// <summary>True when some Ipv4 prefix has a multipath group, so lookups need a flow hash; without one the hash is never read.</summary>
    public bool HasIpv4Groups => _v4Groups.Length != 0;

    /// <summary>The multipath group the IPv4 route at <paramref name="position"/> in <see cref="Ipv4Routes"/> belongs to, or null when it is alone with its prefix and metric.</summary>
    public MultipathGroup? Ipv4GroupAt(int position) =>
        (uint)position < (uint)_v4GroupOf.Length && _v4GroupOf[position] >= 0 ? _v4Groups[_v4GroupOf[position]] : null;

    private int FirstUsable<TFilter>(Ipv4Address destination, TFilter filter)
        where TFilter : INicFilter, allows ref struct
    {
        int i = 0;
        Ipv4Route[] routes = _v4;
        if (_v4Lpm is not null)
        {
            int id = _v4Lpm.Lookup(destination);
            if (id < 0)
                return -1;
            i = _v4First[id];
            if (filter.IsUsable(routes[i].Nic))
                return i;
            i++;
        }
        for (; i < routes.Length; i++)
        {
            Ipv4Route route = routes[i];
            if (route.Destination.Contains(destination) && filter.IsUsable(route.Nic))
                return i;
        }
        return -1;
    }

    /// <summary>The position in <see cref="Ipv4Routes"/> of the best route whatever the NIC's state, or -1: the allocation-free form for the data path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LookupIndex(Ipv4Address destination)
    {
        if (_v4Lpm is not null)
        {
            int id = _v4Lpm.Lookup(destination.Value);
            return id < 0 ? -1 : _v4First[id];
        }
        return ScanIndex(destination);
    }

    /// <summary>Looks up a batch of destinations into positions in <see cref="Ipv4Routes"/> (-1: no route), ignoring NIC state.</summary>
    /// <remarks>The data path checks the chosen route's NIC itself and falls back to <see cref="Lookup{TFilter}(Ipv4Address, TFilter)"/> when it is down.</remarks>
    public void LookupIndex(ReadOnlySpan<Ipv4Address> destinations, Span<int> routeIndices)
    {
        if (routeIndices.Length < destinations.Length)
            throw new ArgumentException("routeIndices must be at least as long as destinations", nameof(routeIndices));
        if (_v4Lpm is null)
        {
            for (int i = 0; i < destinations.Length; i++)
                routeIndices[i] = ScanIndex(destinations[i]);
            return;
        }
        _v4Lpm.Lookup(destinations, routeIndices);
        int[] first = _v4First;
        for (int i = 0; i < destinations.Length; i++)
        {
            int id = routeIndices[i];
            routeIndices[i] = id < 0 ? -1 : first[id];
        }
    }

    /// <summary>Every IPv4 route that contains <paramref name="destination"/>, best first, whatever the NIC's state.</summary>
    public IEnumerable<Ipv4Route> FindCandidates(Ipv4Address destination)
    {
        int start = LookupIndex(destination);
        if (start < 0)
            yield break;
        for (int i = start; i < _v4.Length; i++)
        {
            if (_v4[i].Destination.Contains(destination))
                yield return _v4[i];
        }
    }

    private int ScanIndex(Ipv4Address destination)
    {
        Ipv4Route[] routes = _v4;
        for (int i = 0; i < routes.Length; i++)
        {
            if (routes[i].Destination.Contains(destination))
                return i;
        }
        return -1;
    }
}
