using XdpStack.Stack;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Routing;

/// <summary>The one writer of the stack's routes: connected and config routes from the plan, kernel routes from the FIB sync, combined by <see cref="RouteFamilySources{TRoute, TPrefix}"/>'s rule.</summary>
/// <remarks>
/// Each call publishes at most one route table (<see cref="NetworkStack.UpdateRoutes"/>), so a reload or a burst of
/// kernel changes is one snapshot. A reload replaces only the connected and config routes and a sync pass only the
/// kernel routes of the prefixes it names; neither wipes the other's routes. Threading: reloads, the sync thread and
/// <c>show routes</c> may call at once; a private lock serialises them (the data path never takes it).
/// </remarks>
internal sealed class RouteRegistry(NetworkStack stack)
{
    private readonly Lock _gate = new();
    private readonly RouteFamilySources<Ipv4Route, Ipv4Prefix> _v4 = new(r => r.Destination);
    private readonly RouteFamilySources<Ipv6Route, Ipv6Prefix> _v6 = new(r => r.Destination);

    /// <summary>Kernel routes held (IPv4, IPv6), in the table or shadowed by a config or connected route.</summary>
    public (int Ipv4, int Ipv6) KernelRoutes
    {
        get
        {
            lock (_gate)
                return (_v4.KernelRoutes, _v6.KernelRoutes);
        }
    }

    /// <summary>Prefixes whose kernel routes are shadowed by a config or connected route.</summary>
    public int ShadowedPrefixes
    {
        get
        {
            lock (_gate)
                return _v4.ShadowedPrefixes + _v6.ShadowedPrefixes;
        }
    }

    /// <summary>Replaces the connected and config routes; kernel routes stay. Returns whether the table changed.</summary>
    public bool SetStatic(IEnumerable<(Ipv4Route, RouteOrigin)> ipv4, IEnumerable<(Ipv6Route, RouteOrigin)> ipv6)
    {
        lock (_gate)
        {
            List<Ipv4Route> remove4 = [], add4 = [];
            List<Ipv6Route> remove6 = [], add6 = [];
            _v4.SetStatic(ipv4, remove4, add4);
            _v6.SetStatic(ipv6, remove6, add6);
            return Publish(remove4, add4, remove6, add6);
        }
    }

    /// <summary>Replaces the kernel routes of each named prefix (null or empty: none now); other prefixes stay. Returns whether the table changed.</summary>
    public bool SetKernel(
        IEnumerable<KeyValuePair<Ipv4Prefix, KernelPrefixRoutes<Ipv4Route>?>> ipv4,
        IEnumerable<KeyValuePair<Ipv6Prefix, KernelPrefixRoutes<Ipv6Route>?>> ipv6)
    {
        lock (_gate)
        {
            List<Ipv4Route> remove4 = [], add4 = [];
            List<Ipv6Route> remove6 = [], add6 = [];
            foreach ((Ipv4Prefix prefix, KernelPrefixRoutes<Ipv4Route>? routes) in ipv4)
                _v4.SetKernel(prefix, routes, remove4, add4);
            foreach ((Ipv6Prefix prefix, KernelPrefixRoutes<Ipv6Route>? routes) in ipv6)
                _v6.SetKernel(prefix, routes, remove6, add6);
            return Publish(remove4, add4, remove6, add6);
        }
    }

    /// <inheritdoc cref="RouteFamilySources{TRoute, TPrefix}.SourceOf"/>
    public (RouteOrigin Origin, byte Protocol)? SourceOf(Ipv4Route route)
    {
        lock (_gate)
            return _v4.SourceOf(route);
    }

    /// <inheritdoc cref="RouteFamilySources{TRoute, TPrefix}.SourceOf"/>
    public (RouteOrigin Origin, byte Protocol)? SourceOf(Ipv6Route route)
    {
        lock (_gate)
            return _v6.SourceOf(route);
    }

    private bool Publish(List<Ipv4Route> remove4, List<Ipv4Route> add4, List<Ipv6Route> remove6, List<Ipv6Route> add6)
    {
        if (remove4.Count + add4.Count + remove6.Count + add6.Count == 0)
            return false;
        // Whole sets at once: one pass to remove and one merge to add, whatever the count (a daemon's full table is
        // hundreds of thousands of routes). The registry never puts a route in the table twice, so removing every
        // route equal to one named is removing that route.
        // The pass asks about every route in the table: the prefix set (a cheap struct hash) turns away almost all
        // of them before the route set hashes a whole record.
        HashSet<Ipv4Route> gone4 = [.. remove4];
        HashSet<Ipv6Route> gone6 = [.. remove6];
        HashSet<Ipv4Prefix> gonePrefixes4 = [.. remove4.Select(r => r.Destination)];
        HashSet<Ipv6Prefix> gonePrefixes6 = [.. remove6.Select(r => r.Destination)];
        stack.UpdateRoutes(batch =>
        {
            if (gone4.Count > 0)
                batch.RemoveRoutes(r => gonePrefixes4.Contains(r.Destination) && gone4.Contains(r));
            if (gone6.Count > 0)
                batch.RemoveRoutes(r => gonePrefixes6.Contains(r.Destination) && gone6.Contains(r));
            batch.AddRoutes(add4);
            batch.AddRoutes(add6);
        });
        return true;
    }
}
