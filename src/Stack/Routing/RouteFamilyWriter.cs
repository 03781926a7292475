namespace XdpStack.Stack.Routing;

/// <summary>The writer-side state of one address family's routes: the ordered route list, a stable id per destination prefix, and the LPM that maps an address to a prefix id.</summary>
/// <remarks>
/// Prefix ids are the LPM's next hops and stay fixed while a prefix has routes, so adding a route only touches the
/// LPM when its prefix is new; the id-to-position map is rebuilt per snapshot because positions shift. Small tables
/// skip the LPM altogether (an ordered scan of a few routes beats a 64 MiB table) until they pass
/// <c>lpmThreshold</c> routes. Control thread only.
/// </remarks>
internal abstract class RouteFamilyWriter<TRoute, TPrefix>(int lpmThreshold)
    where TRoute : class
    where TPrefix : struct, IEquatable<TPrefix>
{
    private readonly List<TRoute> _ordered = [];
    private readonly Dictionary<TPrefix, (int Id, int Routes)> _prefixes = [];
    private readonly Stack<int> _freeIds = new();
    private int _nextId;
    private bool _lpmActive;

    public int Count => _ordered.Count;

    public IReadOnlyList<TRoute> Ordered => _ordered;

    protected abstract TPrefix DestinationOf(TRoute route);

    protected abstract int LengthOf(TPrefix prefix);

    protected abstract int MetricOf(TRoute route);

    protected abstract void LpmAdd(TPrefix prefix, int id);

    protected abstract void LpmRemove(TPrefix prefix);

    protected abstract void LpmClear();

    /// <summary>Inserts after every route with a longer prefix, or an equal prefix length and a lower or equal metric (gVisor AddRoute: equal prefixes keep insertion order).</summary>
    public void Add(TRoute route)
    {
        TPrefix destination = DestinationOf(route);
        int length = LengthOf(destination), metric = MetricOf(route);
        int lo = 0, hi = _ordered.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int midLength = LengthOf(DestinationOf(_ordered[mid]));
            bool before = midLength > length || (midLength == length && MetricOf(_ordered[mid]) <= metric);
            if (before)
                lo = mid + 1;
            else
                hi = mid;
        }
        _ordered.Insert(lo, route);
        Track(destination);
    }

    /// <summary>Adds many routes as <see cref="Add"/> would one by one (same order), in one merge.</summary>
    /// <remarks>
    /// Inserting one at a time moves every later route each time, which for a routing daemon's table (most routes /24,
    /// the rest shorter and so later) is quadratic; sorting the new routes and merging them with the list is linear.
    /// </remarks>
    public void AddRange(IReadOnlyList<TRoute> routes)
    {
        if (routes.Count < 32)
        {
            foreach (TRoute route in routes)
                Add(route);
            return;
        }
        // A stable sort (by position on ties) keeps equal routes in the order given, after the existing ones.
        var added = new (TRoute Route, int Length, int Metric, int Order)[routes.Count];
        for (int i = 0; i < added.Length; i++)
            added[i] = (routes[i], LengthOf(DestinationOf(routes[i])), MetricOf(routes[i]), i);
        Array.Sort(added, static (a, b) => a.Length != b.Length ? b.Length.CompareTo(a.Length)
            : a.Metric != b.Metric ? a.Metric.CompareTo(b.Metric) : a.Order.CompareTo(b.Order));
        var merged = new List<TRoute>(_ordered.Count + added.Length);
        int e = 0;
        foreach ((TRoute route, int length, int metric, _) in added)
        {
            while (e < _ordered.Count)
            {
                int existingLength = LengthOf(DestinationOf(_ordered[e]));
                if (existingLength > length || (existingLength == length && MetricOf(_ordered[e]) <= metric))
                    merged.Add(_ordered[e++]);
                else
                    break;
            }
            merged.Add(route);
            Track(DestinationOf(route));
        }
        for (; e < _ordered.Count; e++)
            merged.Add(_ordered[e]);
        _ordered.Clear();
        _ordered.AddRange(merged);
    }

    private void Track(TPrefix destination)
    {
        if (_prefixes.TryGetValue(destination, out (int Id, int Routes) entry))
        {
            _prefixes[destination] = (entry.Id, entry.Routes + 1);
            return;
        }
        int id = _freeIds.Count > 0 ? _freeIds.Pop() : _nextId++;
        _prefixes[destination] = (id, 1);
        if (_lpmActive)
            LpmAdd(destination, id);
    }

    /// <summary>Removes every route <paramref name="match"/> accepts in one pass (removing one at a time would move the rest of the list each time).</summary>
    public int RemoveAll(Predicate<TRoute> match) => _ordered.RemoveAll(route =>
    {
        // List.RemoveAll asks once per element, in order: the place to release a removed route's prefix.
        if (!match(route))
            return false;
        Release(DestinationOf(route));
        return true;
    });

    public bool RemoveFirst(Predicate<TRoute> match)
    {
        int i = _ordered.FindIndex(match);
        if (i < 0)
            return false;
        Release(DestinationOf(_ordered[i]));
        _ordered.RemoveAt(i);
        return true;
    }

    public void Clear()
    {
        _ordered.Clear();
        _prefixes.Clear();
        _freeIds.Clear();
        _nextId = 0;
        if (_lpmActive)
            LpmClear();
        _lpmActive = false;
    }

    /// <summary>Produces the snapshot arrays; <paramref name="useLpm"/> says whether the caller should build the LPM.</summary>
    public (TRoute[] Routes, int[] FirstByPrefixId) Snapshot(out bool useLpm)
    {
        useLpm = _ordered.Count > lpmThreshold;
        if (useLpm && !_lpmActive)
        {
            LpmClear();
            foreach (KeyValuePair<TPrefix, (int Id, int Routes)> prefix in _prefixes)
                LpmAdd(prefix.Key, prefix.Value.Id);
        }
        else if (!useLpm && _lpmActive)
        {
            LpmClear();
        }
        _lpmActive = useLpm;
        TRoute[] routes = [.. _ordered];
        int[] first = new int[_nextId];
        first.AsSpan().Fill(-1);
        if (useLpm)
        {
            for (int i = 0; i < routes.Length; i++)
            {
                int id = _prefixes[DestinationOf(routes[i])].Id;
                if (first[id] < 0)
                    first[id] = i;
            }
        }
        return (routes, first);
    }

    private void Release(TPrefix destination)
    {
        (int id, int routes) = _prefixes[destination];
        if (routes > 1)
        {
            _prefixes[destination] = (id, routes - 1);
            return;
        }
        _prefixes.Remove(destination);
        _freeIds.Push(id);
        if (_lpmActive)
            LpmRemove(destination);
    }
}
