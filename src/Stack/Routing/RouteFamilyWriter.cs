using System.Runtime.InteropServices;

namespace XdpStack.Stack.Routing;

/// <summary>The writer-side state of one address family's routes: the ordered route list, a stable id per destination prefix, and the LPM that maps an address to a prefix id.</summary>
/// <remarks>
/// Prefix ids are the LPM's next hops and stay fixed while a prefix has routes, so adding a route only touches the
/// LPM when its prefix is new; the id-to-position map is rebuilt per snapshot because positions shift. Small tables
/// skip the LPM altogether (an ordered scan of a few routes beats a 64 MiB table) until they pass
/// <c>lpmThreshold</c> routes. Routes of one prefix and metric form a <see cref="MultipathGroup"/>; the writer keeps
/// each group's last bucket deal, keyed by prefix and metric, so the next snapshot's deal is derived from it
/// (<see cref="ResilientBuckets"/>) and a change to other routes moves no flow. Control thread only.
/// </remarks>
internal abstract class RouteFamilyWriter<TRoute, TPrefix>(int lpmThreshold)
    where TRoute : class
    where TPrefix : struct, IEquatable<TPrefix>
{
    private readonly List<TRoute> _ordered = [];
    private readonly List<int> _ids = []; // the prefix id of each route in _ordered, so snapshots need no lookups
    private readonly Dictionary<TPrefix, (int Id, int Routes)> _prefixes = [];
    private readonly Stack<int> _freeIds = new();
    private Dictionary<(TPrefix Prefix, int Metric), (TRoute[] Members, byte[] Owners)> _deals = [];
    private int _nextId;
    private int _sharedPrefixes; // prefixes with more than one route: only they can hold a multipath group
    private bool _lpmActive;
    // Prefixes whose routes changed since the last snapshot, for its RouteChanges; past the limit, "too many".
    private const int TouchedLimit = 1 << 16;
    private readonly HashSet<TPrefix> _touched = [];
    private bool _touchedOverflow = true;
    private RouteChanges<TRoute, TPrefix>? _lastChanges;

    public int Count => _ordered.Count;

    public IReadOnlyList<TRoute> Ordered => _ordered;

    protected abstract TPrefix DestinationOf(TRoute route);

    protected abstract int LengthOf(TPrefix prefix);

    protected abstract int MetricOf(TRoute route);

    protected abstract int NicOf(TRoute route);

    protected abstract int WeightOf(TRoute route);

    /// <summary>The route as a group member is known across publications: its weight set aside, so a new weight moves only the buckets the new share needs.</summary>
    protected abstract TRoute IdentityOf(TRoute route);

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
        _ids.Insert(lo, Track(destination));
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
        int[] addedIds = new int[added.Length];
        for (int i = 0; i < added.Length; i++)
            addedIds[i] = Track(DestinationOf(added[i].Route));

        // Merged in place from the back, into the list grown by the new routes' count: no second copy of the table.
        int existing = _ordered.Count, total = existing + added.Length;
        CollectionsMarshal.SetCount(_ordered, total);
        CollectionsMarshal.SetCount(_ids, total);
        Span<TRoute> ordered = CollectionsMarshal.AsSpan(_ordered);
        Span<int> ids = CollectionsMarshal.AsSpan(_ids);
        int e = existing - 1, w = total - 1;
        for (int a = added.Length - 1; a >= 0; a--)
        {
            (TRoute route, int length, int metric, _) = added[a];
            // Existing routes that Add would keep after this one move up first.
            while (e >= 0)
            {
                int existingLength = LengthOf(DestinationOf(ordered[e]));
                if (existingLength > length || (existingLength == length && MetricOf(ordered[e]) <= metric))
                    break;
                ordered[w] = ordered[e];
                ids[w--] = ids[e--];
            }
            ordered[w] = route;
            ids[w--] = addedIds[a];
        }
    }

    private void Touch(TPrefix destination)
    {
        if (_touchedOverflow)
            return;
        _touched.Add(destination);
        if (_touched.Count > TouchedLimit)
        {
            _touchedOverflow = true;
            _touched.Clear();
        }
    }

    // Counts one more route of the prefix; returns the prefix's id.
    private int Track(TPrefix destination)
    {
        Touch(destination);
        if (_prefixes.TryGetValue(destination, out (int Id, int Routes) entry))
        {
            _prefixes[destination] = (entry.Id, entry.Routes + 1);
            if (entry.Routes == 1)
                _sharedPrefixes++;
            return entry.Id;
        }
        int id = _freeIds.Count > 0 ? _freeIds.Pop() : _nextId++;
        _prefixes[destination] = (id, 1);
        if (_lpmActive)
            LpmAdd(destination, id);
        return id;
    }

    /// <summary>Removes every route <paramref name="match"/> accepts in one pass (removing one at a time would move the rest of the list each time).</summary>
    public int RemoveAll(Predicate<TRoute> match)
    {
        int kept = 0;
        for (int i = 0; i < _ordered.Count; i++)
        {
            TRoute route = _ordered[i];
            if (match(route))
            {
                Release(DestinationOf(route));
                continue;
            }
            _ordered[kept] = route;
            _ids[kept++] = _ids[i];
        }
        int removed = _ordered.Count - kept;
        _ordered.RemoveRange(kept, removed);
        _ids.RemoveRange(kept, removed);
        return removed;
    }

    public bool RemoveFirst(Predicate<TRoute> match)
    {
        int i = _ordered.FindIndex(match);
        if (i < 0)
            return false;
        Release(DestinationOf(_ordered[i]));
        _ordered.RemoveAt(i);
        _ids.RemoveAt(i);
        return true;
    }

    public void Clear()
    {
        _ordered.Clear();
        _ids.Clear();
        _prefixes.Clear();
        _freeIds.Clear();
        _nextId = 0;
        _sharedPrefixes = 0;
        if (_lpmActive)
            LpmClear();
        _lpmActive = false;
        _touchedOverflow = true;
        _touched.Clear();
    }

    /// <summary>Produces the snapshot arrays; <paramref name="useLpm"/> says whether the caller should build the LPM.</summary>
    /// <remarks>
    /// GroupByPosition is empty when no prefix has a group; otherwise it holds each route's index into Groups, or -1.
    /// Changes lists the prefixes touched since the previous snapshot, linked from the previous snapshot's.
    /// </remarks>
    public (TRoute[] Routes, int[] FirstByPrefixId, int[] GroupByPosition, MultipathGroup[] Groups, RouteChanges<TRoute, TPrefix> Changes) Snapshot(out bool useLpm)
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
                int id = _ids[i];
                if (first[id] < 0)
                    first[id] = i;
            }
        }
        (int[] groupOf, MultipathGroup[] groups) = BuildGroups(routes);
        return (routes, first, groupOf, groups, TakeChanges(useLpm, routes, first, groupOf));
    }

    private RouteChanges<TRoute, TPrefix> TakeChanges(bool useLpm, TRoute[] routes, int[] first, int[] groupOf)
    {
        RouteChanges<TRoute, TPrefix>.PrefixState[]? states = null;
        // Without the LPM the first-route map is not built; such tables are small enough to read whole.
        if (!_touchedOverflow && (useLpm || _touched.Count == 0))
        {
            states = new RouteChanges<TRoute, TPrefix>.PrefixState[_touched.Count];
            int n = 0;
            foreach (TPrefix prefix in _touched)
            {
                if (_prefixes.TryGetValue(prefix, out (int Id, int Routes) entry))
                {
                    int position = first[entry.Id];
                    states[n++] = new(prefix, routes[position], (uint)position < (uint)groupOf.Length && groupOf[position] >= 0);
                }
                else
                {
                    states[n++] = new(prefix, null, false);
                }
            }
        }
        _touched.Clear();
        _touchedOverflow = false;
        var changes = new RouteChanges<TRoute, TPrefix>(states);
        _lastChanges?.Link(changes);
        _lastChanges = changes;
        return changes;
    }

    // Groups every prefix-and-metric with two or more distinct routes, dealing its buckets from the previous deal.
    private (int[] GroupOf, MultipathGroup[] Groups) BuildGroups(TRoute[] routes)
    {
        if (_sharedPrefixes == 0)
        {
            _deals = [];
            return ([], []);
        }
        var byKey = new Dictionary<(TPrefix, int), List<int>>();
        for (int i = 0; i < routes.Length; i++)
        {
            TPrefix prefix = DestinationOf(routes[i]);
            if (_prefixes[prefix].Routes < 2)
                continue;
            (TPrefix, int) key = (prefix, MetricOf(routes[i]));
            if (!byKey.TryGetValue(key, out List<int>? positions))
                byKey[key] = positions = [];
            positions.Add(i);
        }

        var deals = new Dictionary<(TPrefix, int), (TRoute[], byte[])>();
        var groups = new List<MultipathGroup>();
        int[] groupOf = new int[routes.Length];
        groupOf.AsSpan().Fill(-1);
        Span<int> previous = stackalloc int[MultipathGroup.BucketCount];
        foreach (((TPrefix, int) key, List<int> positions) in byKey)
        {
            // An identical route added twice is one next hop; past MaxMembers, routes get no buckets.
            var index = new Dictionary<TRoute, int>();
            var members = new List<int>();
            foreach (int position in positions)
            {
                if (members.Count < MultipathGroup.MaxMembers && index.TryAdd(IdentityOf(routes[position]), members.Count))
                    members.Add(position);
            }
            if (members.Count < 2)
                continue;
            TRoute[] identities = new TRoute[members.Count];
            int[] weights = new int[members.Count];
            int[] nics = new int[members.Count];
            for (int m = 0; m < members.Count; m++)
            {
                identities[m] = IdentityOf(routes[members[m]]);
                weights[m] = WeightOf(routes[members[m]]);
                nics[m] = NicOf(routes[members[m]]);
            }
            previous.Fill(-1);
            if (_deals.TryGetValue(key, out (TRoute[] Members, byte[] Owners) old))
            {
                for (int b = 0; b < previous.Length; b++)
                    previous[b] = index.TryGetValue(old.Members[old.Owners[b]], out int now) ? now : -1;
            }
            byte[] owners = ResilientBuckets.Deal(previous, weights);
            deals[key] = (identities, owners);
            foreach (int position in positions)
                groupOf[position] = groups.Count;
            groups.Add(new MultipathGroup([.. members], nics, owners));
        }
        _deals = deals;
        return groups.Count == 0 ? ([], []) : (groupOf, [.. groups]);
    }

    private void Release(TPrefix destination)
    {
        Touch(destination);
        (int id, int routes) = _prefixes[destination];
        if (routes > 1)
        {
            _prefixes[destination] = (id, routes - 1);
            if (routes == 2)
                _sharedPrefixes--;
            return;
        }
        _prefixes.Remove(destination);
        _freeIds.Push(id);
        if (_lpmActive)
            LpmRemove(destination);
    }
}
