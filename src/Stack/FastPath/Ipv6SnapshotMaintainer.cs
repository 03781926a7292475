using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>Builds one IPv6 fast path's snapshots, and keeps the last one's tables when nothing IPv6 changed since (an IPv4 route publication, say).</summary>
/// <remarks>
/// Every route publication raises the stack's forwarding change, for both families. An IPv6 snapshot is a full build
/// (the trie has no in-place mode), so without this every IPv4 route burst would rebuild the IPv6 table too. It reuses
/// the last snapshot's tables under the new versions when the IPv6 change lists (<see cref="RouteTable.Ipv6Changes"/>)
/// since then are all empty, no address, NIC or forwarder changed and no IPv6 neighbour did; otherwise it builds.
/// Control thread only; <see cref="OnNeighborsChanged"/> may come from any thread.
/// </remarks>
internal sealed class Ipv6SnapshotMaintainer
{
    private readonly Dictionary<Ipv6Prefix, RouteChanges<Ipv6Route, Ipv6Prefix>.PrefixState> _changed = [];
    private int _neighborsChanged;
    private Ipv6ForwardingSnapshot? _last;
    private RouteChanges<Ipv6Route, Ipv6Prefix>? _lastChanges;
    private long _lastNonRouteVersion;
    private readonly bool _hugePages;

    /// <summary>Creates a maintainer whose full builds put the trie on transparent huge pages when <paramref name="useHugePages"/> is set.</summary>
    public Ipv6SnapshotMaintainer(bool useHugePages = false) => _hugePages = useHugePages;

    /// <summary>Full builds so far.</summary>
    public int FullBuilds { get; private set; }

    /// <summary>Marks the neighbours changed: the next build is a full one. Subscribe it before the follower's handler.</summary>
    public void OnNeighborsChanged() => Volatile.Write(ref _neighborsChanged, 1);

    /// <summary>The snapshot of <paramref name="stack"/> as it is now.</summary>
    public Ipv6ForwardingSnapshot Build(NetworkStack stack)
    {
        bool neighborsChanged = Interlocked.Exchange(ref _neighborsChanged, 0) != 0;
        long stateVersion = stack.ForwardingVersion;
        long nonRouteVersion = stack.NonRouteVersion;
        RouteTable table = stack.Routes;
        _changed.Clear();
        if (!neighborsChanged && _last is not null && nonRouteVersion == _lastNonRouteVersion
            && _lastChanges is not null && table.Ipv6Changes is not null
            && RouteChanges<Ipv6Route, Ipv6Prefix>.TryCollect(_lastChanges, table.Ipv6Changes, _changed) && _changed.Count == 0)
        {
            _lastChanges = table.Ipv6Changes;
            return _last = _last.WithVersions(table.Version, stateVersion);
        }
        FullBuilds++;
        _lastNonRouteVersion = nonRouteVersion;
        _lastChanges = table.Ipv6Changes;
        return _last = Ipv6ForwardingSnapshot.Build(stack, stateVersion, table, _hugePages);
    }
}
