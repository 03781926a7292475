namespace XdpStack.Appliance.Routing;

/// <summary>One family's routes by source, and the rule that decides which of them the stack's table holds.</summary>
/// <remarks>
/// The rule is an administrative distance: a connected or config route for a prefix shadows every kernel route of
/// exactly that prefix, whatever the metrics. Kernel routes of a shadowed prefix are kept here, not in the table, and
/// come back into the table when the last config or connected route of the prefix goes. Routes of different prefixes
/// never shadow each other (the longest match still wins), and within one source the metrics decide as usual.
/// The methods do not touch the stack: they return what to remove from and add to its table. Callers serialise.
/// </remarks>
internal sealed class RouteFamilySources<TRoute, TPrefix>(Func<TRoute, TPrefix> prefixOf)
    where TRoute : class
    where TPrefix : struct, IEquatable<TPrefix>
{
    private Dictionary<TRoute, RouteOrigin> _static = [];
    private Dictionary<TPrefix, int> _staticPrefixes = [];
    private readonly Dictionary<TPrefix, KernelPrefixRoutes<TRoute>> _kernel = [];

    /// <summary>Kernel routes held, in the table or shadowed.</summary>
    public int KernelRoutes { get; private set; }

    /// <summary>Prefixes whose kernel routes a config or connected route shadows.</summary>
    public int ShadowedPrefixes => _kernel.Keys.Count(_staticPrefixes.ContainsKey);

    /// <summary>Replaces the connected and config routes (the first origin given for a route wins); adds the table changes to <paramref name="remove"/> and <paramref name="add"/>.</summary>
    public void SetStatic(IEnumerable<(TRoute Route, RouteOrigin Origin)> routes, List<TRoute> remove, List<TRoute> add)
    {
        var next = new Dictionary<TRoute, RouteOrigin>();
        var nextPrefixes = new Dictionary<TPrefix, int>();
        foreach ((TRoute route, RouteOrigin origin) in routes)
        {
            if (next.TryAdd(route, origin))
                nextPrefixes[prefixOf(route)] = nextPrefixes.GetValueOrDefault(prefixOf(route)) + 1;
        }
        foreach (TRoute route in _static.Keys)
        {
            if (!next.ContainsKey(route))
                remove.Add(route);
        }
        foreach (KeyValuePair<TPrefix, KernelPrefixRoutes<TRoute>> kernel in _kernel)
        {
            bool before = _staticPrefixes.ContainsKey(kernel.Key), after = nextPrefixes.ContainsKey(kernel.Key);
            if (!before && after)
                remove.AddRange(kernel.Value.Routes);
            else if (before && !after)
                add.AddRange(kernel.Value.Routes);
        }
        foreach (TRoute route in next.Keys)
        {
            if (!_static.ContainsKey(route))
                add.Add(route);
        }
        _static = next;
        _staticPrefixes = nextPrefixes;
    }

    /// <summary>Replaces the kernel routes of <paramref name="prefix"/> (none: the kernel has no usable route for it); adds the table changes to <paramref name="remove"/> and <paramref name="add"/>.</summary>
    public void SetKernel(TPrefix prefix, KernelPrefixRoutes<TRoute>? routes, List<TRoute> remove, List<TRoute> add)
    {
        TRoute[] old = _kernel.TryGetValue(prefix, out KernelPrefixRoutes<TRoute>? held) ? held.Routes : [];
        TRoute[] now = routes?.Routes ?? [];
        if (routes is null || routes.Routes.Length == 0)
            _kernel.Remove(prefix);
        else
            _kernel[prefix] = routes;
        KernelRoutes += now.Length - old.Length;
        if (_staticPrefixes.ContainsKey(prefix))
            return;
        // Routes both sets share stay in the table untouched, so their traffic never sees a gap.
        foreach (TRoute route in old)
        {
            if (Array.IndexOf(now, route) < 0)
                remove.Add(route);
        }
        foreach (TRoute route in now)
        {
            if (Array.IndexOf(old, route) < 0)
                add.Add(route);
        }
    }

    /// <summary>Where <paramref name="route"/> came from, and for a kernel route the rtm_protocol that installed it; null for a route this registry did not add.</summary>
    public (RouteOrigin Origin, byte Protocol)? SourceOf(TRoute route)
    {
        if (_static.TryGetValue(route, out RouteOrigin origin))
            return (origin, 0);
        if (_kernel.TryGetValue(prefixOf(route), out KernelPrefixRoutes<TRoute>? kernel))
        {
            int i = Array.IndexOf(kernel.Routes, route);
            if (i >= 0)
                return (RouteOrigin.Kernel, kernel.Protocols[i]);
        }
        return null;
    }
}
