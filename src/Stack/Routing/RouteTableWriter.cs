namespace XdpStack.Stack.Routing;

/// <summary>Owns the route set and publishes each change as a new immutable <see cref="RouteTable"/> with one <c>Volatile.Write</c>.</summary>
/// <remarks>
/// <para>
/// Threading: any control thread may call the mutators; they serialise on a private lock, which readers never take.
/// Workers read <see cref="Current"/> once per batch and keep using that snapshot until the batch ends; a route change
/// is visible from the next batch. Old snapshots are reclaimed by the GC once no worker holds them.
/// </para>
/// <para>
/// Every mutator publishes at once, as gVisor's <c>AddRoute</c> takes effect at once; use
/// <see cref="Update(Action{RouteTableWriter.Batch})"/> to apply many changes with one publication (each publication
/// copies the route list; the IPv4 LPM copies only the 16 KiB chunks the changes touched, see <see cref="PersistentIpv4Lpm"/>).
/// </para>
/// </remarks>
public sealed partial class RouteTableWriter
{
    /// <summary>Above this many routes per family, lookups go through an LPM; at or below it they scan the ordered list.</summary>
    public const int DefaultLpmThreshold = 16;

    private readonly Lock _gate = new();
    private readonly Ipv4RouteFamilyWriter _v4;
    private readonly Ipv6RouteFamilyWriter _v6;
    private RouteTable _current = RouteTable.Empty;
    private MultipathHash _multipath;

    /// <summary>Creates a writer whose first table is <see cref="RouteTable.Empty"/>.</summary>
    /// <param name="lpmThreshold">Route count per family above which lookups use an LPM (0 always uses it).</param>
    /// <param name="multipath">The flow hash of multipath lookups; null: <see cref="MultipathHashPolicy.Layer4"/> with a random seed.</param>
    public RouteTableWriter(int lpmThreshold = DefaultLpmThreshold, MultipathHash? multipath = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lpmThreshold);
        _multipath = multipath ?? new MultipathHash(MultipathHashPolicy.Layer4, (ulong)Random.Shared.NextInt64());
        _v4 = new Ipv4RouteFamilyWriter(lpmThreshold);
        _v6 = new Ipv6RouteFamilyWriter(lpmThreshold);
    }

    /// <summary>The flow hash the next publication carries.</summary>
    public MultipathHash Multipath
    {
        get
        {
            lock (_gate)
                return _multipath;
        }
    }

    /// <summary>The latest published table; read it once per batch.</summary>
    public RouteTable Current => Volatile.Read(ref _current);

    /// <summary>Adds an IPv4 route after existing routes of equal prefix length and metric, and publishes.</summary>
    public RouteTable AddRoute(Ipv4Route route) => Update(b => b.AddRoute(route));

    /// <summary>Adds an IPv6 route after existing routes of equal prefix length and metric, and publishes.</summary>
    public RouteTable AddRoute(Ipv6Route route) => Update(b => b.AddRoute(route));

    /// <summary>Removes the first IPv4 route equal to <paramref name="route"/> and publishes; false when there is none.</summary>
    public bool RemoveRoute(Ipv4Route route)
    {
        bool removed = false;
        Update(b => removed = b.RemoveRoute(route));
        return removed;
    }

    /// <summary>Removes the first IPv6 route equal to <paramref name="route"/> and publishes; false when there is none.</summary>
    public bool RemoveRoute(Ipv6Route route)
    {
        bool removed = false;
        Update(b => removed = b.RemoveRoute(route));
        return removed;
    }

    /// <summary>Removes every IPv4 route <paramref name="match"/> accepts and publishes; returns how many went.</summary>
    public int RemoveRoutes(Predicate<Ipv4Route> match)
    {
        int removed = 0;
        Update(b => removed = b.RemoveRoutes(match));
        return removed;
    }

    /// <summary>Removes every IPv6 route <paramref name="match"/> accepts and publishes; returns how many went.</summary>
    public int RemoveRoutes(Predicate<Ipv6Route> match)
    {
        int removed = 0;
        Update(b => removed = b.RemoveRoutes(match));
        return removed;
    }

    /// <summary>Replaces all routes (gVisor <c>SetRouteTable</c>) and publishes once.</summary>
    /// <remarks>One merge per family (<see cref="Batch.AddRoutes(IReadOnlyList{Ipv4Route})"/>): adding a large table route by route would move the list once per route.</remarks>
    public RouteTable SetRoutes(IEnumerable<Ipv4Route> ipv4, IEnumerable<Ipv6Route> ipv6) => Update(b =>
    {
        b.Clear();
        b.AddRoutes([.. ipv4]);
        b.AddRoutes([.. ipv6]);
    });

    /// <summary>Sets the flow hash of multipath lookups and publishes: flows may change paths, as after Linux's fib_multipath_hash_policy changes.</summary>
    public RouteTable SetMultipathHash(MultipathHash multipath)
    {
        lock (_gate)
            _multipath = multipath;
        return Update(_ => { });
    }

    /// <summary>Applies every change <paramref name="changes"/> makes, then publishes one table.</summary>
    public RouteTable Update(Action<Batch> changes)
    {
        lock (_gate)
        {
            changes(new Batch(this));
            var (v4, v4First, v4GroupOf, v4Groups, v4Changes) = _v4.Snapshot(out bool v4Lpm);
            var (v6, v6First, v6GroupOf, v6Groups, v6Changes) = _v6.Snapshot(out bool v6Lpm);
            var table = new RouteTable(
                new(v4, v4First, v4Lpm ? _v4.BuildLpm() : null, v4GroupOf, v4Groups, v4Changes),
                new(v6, v6First, v6Lpm ? _v6.BuildLpm() : null, v6GroupOf, v6Groups, v6Changes),
                _multipath,
                _current.Version + 1);
            Volatile.Write(ref _current, table);
            return table;
        }
    }
}
