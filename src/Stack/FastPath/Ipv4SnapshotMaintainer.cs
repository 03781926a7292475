using XdpStack.Stack.Link;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>Builds one IPv4 fast path's snapshots, and when only routes changed since the last one, changes that snapshot's LPM prefix by prefix instead of building anew.</summary>
/// <remarks>
/// <para>
/// A full build reads every route, address and neighbour into a fresh DIR-24-8 table: about 0.3 s at 100,000 routes.
/// A routing daemon's churn changes a few prefixes per publication, so after a full build the maintainer follows the
/// route table's change lists (<see cref="RouteTable.Ipv4Changes"/>) and rewrites only the rules of the prefixes
/// named there, with the same per-prefix decision as the full build. It builds in full again whenever the simple
/// per-prefix rule might not be the whole answer: an address, NIC, forwarder or multipath-hash change
/// (<see cref="NetworkStack.NonRouteVersion"/>), a neighbour change, a change list that is missing or too long, a
/// changed prefix with a multipath group, on-link routing or local addresses in or around it, or more new next hops
/// than the published hop array has room for.
/// </para>
/// <para>
/// With <see cref="ReaderEpochs"/> the LPM is double-buffered (<see cref="Ipv4LpmBuilder"/>: an update writes the table
/// published before the current one, once every reader has left it) and every thread that looks up must be
/// registered, quiesce once per batch and go offline before it blocks; without, each update copies the table once. Next hops are
/// only ever appended into spare room of the hop array that the snapshots share, so an id that a changed LPM entry
/// names is valid in every snapshot a reader may still hold. Control thread only (the follower serialises builds);
/// <see cref="OnNeighborsChanged"/> may come from any thread.
/// </para>
/// </remarks>
internal sealed class Ipv4SnapshotMaintainer(bool useHugePages, ReaderEpochs? readers)
{
    private const int MinHopCapacity = 64;

    private readonly Dictionary<Ipv4Prefix, RouteChanges<Ipv4Route, Ipv4Prefix>.PrefixState> _changed = [];
    private readonly List<(Ipv4Prefix Prefix, int Hop)> _updates = [];
    private int _neighborsChanged;
    // The last snapshot and what updating it needs; _last is null until the first full build.
    private Ipv4ForwardingSnapshot? _last;
    private RouteChanges<Ipv4Route, Ipv4Prefix>? _lastChanges;
    private long _lastNonRouteVersion;
    private Ipv4LpmBuilder _builder = new(useHugePages: false);
    private FastNextHopTable _hops = new();
    private FastNextHop[] _hopArray = [default];
    private Ipv4Prefix[] _local = [];        // addresses (/32), subnet broadcasts (/32) and subnets: all slow path
    private Ipv4Prefix[] _onLinkRoutes = []; // expanded per neighbour by the full build

    /// <summary>Full builds so far.</summary>
    public int FullBuilds { get; private set; }

    /// <summary>Snapshots made by updating the previous one.</summary>
    public int Updates { get; private set; }

    /// <summary>Updates whose LPM was a copy of the published one rather than the double buffer's other table (see <see cref="Ipv4LpmBuilder.Copies"/>).</summary>
    public int LpmCopies => _copiesOfEarlierBuilders + _builder.Copies;

    private int _copiesOfEarlierBuilders;

    /// <summary>Marks the neighbours changed: the next build is a full one. Subscribe it before the follower's handler.</summary>
    public void OnNeighborsChanged() => Volatile.Write(ref _neighborsChanged, 1);

    /// <summary>The snapshot of <paramref name="stack"/> as it is now.</summary>
    public Ipv4ForwardingSnapshot Build(NetworkStack stack)
    {
        // Cleared before reading the state: a neighbour change during this build makes the next one full.
        bool neighborsChanged = Interlocked.Exchange(ref _neighborsChanged, 0) != 0;
        // Read first: a change made while building leaves the stack's version ahead of this one. The non-route
        // version moves before the forwarding version, so reading it second never misses a change the first saw.
        long stateVersion = stack.ForwardingVersion;
        long nonRouteVersion = stack.NonRouteVersion;
        RouteTable table = stack.Routes;
        if (!neighborsChanged && _last is not null && nonRouteVersion == _lastNonRouteVersion && TryUpdate(stack, table, stateVersion))
        {
            Updates++;
            return _last;
        }
        FullBuilds++;
        _lastNonRouteVersion = nonRouteVersion;
        return _last = FullBuild(stack, table, stateVersion);
    }

    private bool TryUpdate(NetworkStack stack, RouteTable table, long stateVersion)
    {
        _changed.Clear();
        if (_lastChanges is null || table.Ipv4Changes is null
            || !RouteChanges<Ipv4Route, Ipv4Prefix>.TryCollect(_lastChanges, table.Ipv4Changes, _changed))
            return false;

        // Decide every prefix before changing anything, so a prefix that needs a full build leaves the table alone.
        var filter = new EnabledNicFilter(stack);
        int hopsBefore = _hops.Count;
        _updates.Clear();
        foreach ((Ipv4Prefix prefix, RouteChanges<Ipv4Route, Ipv4Prefix>.PrefixState state) in _changed)
        {
            if (state.Grouped || Touches(prefix))
                return Abandon(hopsBefore);
            if (_builder.TryGetRule(prefix.Address.Value, prefix.Length, out int old) && (old & FastMultipathTable.GroupFlag) != 0)
                return Abandon(hopsBefore);
            if (state.First is not { } route)
            {
                _updates.Add((prefix, -1));
                continue;
            }
            int hop = Ipv4ForwardingSnapshot.SlowPath;
            if (filter.IsUsable(route.Nic) && stack.TryGetNic(new NicId(route.Nic), out Nic egress))
            {
                if ((egress.Link.Capabilities & LinkCapabilities.ResolutionRequired) == 0)
                    hop = _hops.Intern(egress, MacAddress.Zero);
                else if (route.IsOnLink)
                    return Abandon(hopsBefore);
                else if (egress.Neighbors.TryGetResolved(route.Gateway, out MacAddress mac))
                    hop = _hops.Intern(egress, mac);
            }
            _updates.Add((prefix, hop));
        }
        if (_hops.Count > _hopArray.Length)
            return Abandon(hopsBefore);

        // New hops first: the LPM names them only after they are in the array every snapshot shares.
        for (int id = hopsBefore; id < _hops.Count; id++)
            _hopArray[id] = _hops[id];
        foreach ((Ipv4Prefix prefix, int hop) in _updates)
        {
            if (hop < 0)
                _builder.Remove(prefix);
            else
                _builder.Add(prefix, hop);
        }
        Ipv4ForwardingSnapshot last = _last!;
        _last = new Ipv4ForwardingSnapshot(_builder.Build(), _hopArray, last.GroupHops, table.Multipath, last.Ingress,
            last.RefusedSources, table.Version, stateVersion);
        _lastChanges = table.Ipv4Changes;
        return true;
    }

    private bool Abandon(int hopsBefore)
    {
        _hops.Truncate(hopsBefore);
        return false;
    }

    // Whether the full build would give this prefix more than its first route's rule: it lies in a local subnet or
    // is a local address (the full build makes those slow path), or it overlaps an on-link route (whose neighbours
    // become /32 rules of their own, decided by which route wins for each).
    private bool Touches(Ipv4Prefix prefix)
    {
        foreach (Ipv4Prefix local in _local)
        {
            if (local.Contains(prefix))
                return true;
        }
        foreach (Ipv4Prefix onLink in _onLinkRoutes)
        {
            if (onLink.Contains(prefix) || prefix.Contains(onLink))
                return true;
        }
        return false;
    }

    private Ipv4ForwardingSnapshot FullBuild(NetworkStack stack, RouteTable table, long stateVersion)
    {
        var filter = new EnabledNicFilter(stack);
        var builder = new Ipv4LpmBuilder(useHugePages, readers);
        var hops = new FastNextHopTable();
        var onLinkRoutes = new List<Ipv4Prefix>();
        var local = new List<Ipv4Prefix>();

        // Routes: for each prefix, the first route in lookup order decides, as in RouteTable.Lookup;
        // when its NIC is down the full stack scans further, so the fast path does not try.
        var seen = new HashSet<Ipv4Prefix>();
        var onLink = new List<(Ipv4Route Route, Nic Nic)>();
        IReadOnlyList<Ipv4Route> routes = table.Ipv4Routes;
        var groups = new FastMultipathTable();
        Span<int> bucketHops = stackalloc int[MultipathGroup.BucketCount];
        for (int position = 0; position < routes.Count; position++)
        {
            Ipv4Route route = routes[position];
            if (!seen.Add(route.Destination))
                continue;
            int id = Ipv4ForwardingSnapshot.SlowPath;
            if (table.Ipv4GroupAt(position) is { } group)
            {
                // Each bucket gets the hop of the member the full stack picks for it with the NICs as they are now;
                // a group with no usable member is left to the full stack, which goes on to the next route.
                if (group.MemberFor(0, filter) >= 0)
                {
                    for (int b = 0; b < bucketHops.Length; b++)
                        bucketHops[b] = MemberHop(stack, routes[group.PositionOf(group.MemberFor(b, filter))], hops);
                    id = groups.Add(bucketHops);
                }
            }
            else if (filter.IsUsable(route.Nic) && stack.TryGetNic(new NicId(route.Nic), out Nic egress))
            {
                if ((egress.Link.Capabilities & LinkCapabilities.ResolutionRequired) == 0)
                    id = hops.Intern(egress, MacAddress.Zero);
                else if (route.IsOnLink)
                    onLink.Add((route, egress));
                else if (egress.Neighbors.TryGetResolved(route.Gateway, out MacAddress mac))
                    id = hops.Intern(egress, mac);
            }
            builder.Add(route.Destination, id);
        }

        // On-link routes: each resolved neighbour the route would reach becomes a /32 of its own.
        foreach ((Ipv4Route route, Nic egress) in onLink)
        {
            onLinkRoutes.Add(route.Destination);
            foreach (NeighborInfo<Ipv4Address> neighbor in egress.Neighbors.Snapshot())
            {
                if (route.Destination.Contains(neighbor.Address)
                    && ReferenceEquals(table.Lookup(neighbor.Address, filter), route)
                    && egress.Neighbors.TryGetResolved(neighbor.Address, out MacAddress mac))
                    builder.Add(new Ipv4Prefix(neighbor.Address, 32), hops.Intern(egress, mac));
            }
        }

        // Local destinations, on any NIC: the full stack delivers them (behaviour 32).
        var refused = new List<uint>();
        int maxId = 0;
        foreach (Nic nic in stack.NicArray)
        {
            maxId = Math.Max(maxId, nic.Id.Value);
            AddressSnapshot addresses = nic.Addresses;
            foreach (Ipv4Address address in addresses.Ipv4.Keys)
            {
                builder.Add(new Ipv4Prefix(address, 32), Ipv4ForwardingSnapshot.SlowPath);
                local.Add(new Ipv4Prefix(address, 32));
                // A packet from one of our own addresses is a martian the full stack drops (Linux's fib_validate_source).
                refused.Add(address.Value);
            }
            foreach (Ipv4Address broadcast in addresses.Ipv4SubnetBroadcasts)
            {
                builder.Add(new Ipv4Prefix(broadcast, 32), Ipv4ForwardingSnapshot.SlowPath);
                local.Add(new Ipv4Prefix(broadcast, 32));
                refused.Add(broadcast.Value);
            }
            foreach (Ipv4Prefix subnet in addresses.Ipv4Subnets)
            {
                // Everything inside an accepted subnet is local, longer rules too.
                foreach ((uint prefix, int length, int _) in builder.Rules().ToArray())
                {
                    if (length >= subnet.Length && subnet.Contains(new Ipv4Address(prefix)))
                        builder.Add(prefix, length, Ipv4ForwardingSnapshot.SlowPath);
                }
                builder.Add(subnet, Ipv4ForwardingSnapshot.SlowPath);
                local.Add(subnet);
            }
        }

        var ingress = new FastIngress[maxId + 1];
        // The fast path mirrors Ipv4Forwarder; under any other forwarder the full stack decides everything.
        bool forwarderInstalled = stack.Ipv4Forwarder is Ipv4Forwarder;
        foreach (Nic nic in stack.NicArray)
            ingress[nic.Id.Value] = FastIngress.For(nic, EtherType.Ipv4, forwarderInstalled, hairpinAllowed: !stack.Options.SendRedirects);

        // Spare room for next hops that later updates add (a new gateway), shared by every snapshot until the next
        // full build; unused entries are the slow-path marker's default.
        var hopArray = new FastNextHop[Math.Max(MinHopCapacity, hops.Count * 2)];
        for (int id = 0; id < hops.Count; id++)
            hopArray[id] = hops[id];

        _copiesOfEarlierBuilders += _builder.Copies;
        _builder = builder;
        _hops = hops;
        _hopArray = hopArray;
        _local = [.. local];
        _onLinkRoutes = [.. onLinkRoutes];
        _lastChanges = table.Ipv4Changes;
        return new Ipv4ForwardingSnapshot(builder.Build(), hopArray, groups.ToArray(), table.Multipath, ingress, [.. refused], table.Version, stateVersion);
    }

    // A multipath member's hop: its gateway's MAC when resolved. An on-link member would need one entry per
    // neighbour and per bucket, so its flows go to the full stack, which picks the same member and resolves.
    private static int MemberHop(NetworkStack stack, Ipv4Route member, FastNextHopTable hops)
    {
        if (!stack.TryGetNic(new NicId(member.Nic), out Nic egress))
            return Ipv4ForwardingSnapshot.SlowPath;
        if ((egress.Link.Capabilities & LinkCapabilities.ResolutionRequired) == 0)
            return hops.Intern(egress, MacAddress.Zero);
        if (!member.IsOnLink && egress.Neighbors.TryGetResolved(member.Gateway, out MacAddress mac))
            return hops.Intern(egress, mac);
        return Ipv4ForwardingSnapshot.SlowPath;
    }
}
