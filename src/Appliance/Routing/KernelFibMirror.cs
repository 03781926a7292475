using System.Net;
using System.Net.Sockets;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;
using XdpStack.Xdp.Routes;

namespace XdpStack.Appliance.Routing;

/// <summary>The sync thread's copy of one kernel routing table: every unicast route by prefix and metric with all its next hops, and the prefixes changed since the last publication.</summary>
/// <remarks>
/// <para>
/// The mirror keeps next hops through interfaces the appliance does not own, so that a later delete matches exactly
/// and a later <see cref="NicIndexMap.Register"/> can bring them in; only <see cref="TakeDirty"/> maps them to NICs.
/// A route is identified by prefix and metric, as the kernel identifies it in a table (IPv4 also by TOS, which
/// forwarding here ignores). An add joins next hops to the route (IPv4 <c>append</c> announces one alias at a time), a
/// replace sets them, a delete takes the announced next hops away and the route when none is left or none matched.
/// Next hops match by interface and gateway (<see cref="KernelNextHop.IsSamePath"/>); each keeps the weight last
/// announced for it, which becomes its stack route's <c>Weight</c> and so its share of the multipath group.
/// </para>
/// <para>
/// Only unicast routes forward. A blackhole or unreachable route is counted, not mirrored; one that replaces a
/// unicast route of the same key removes it. Sync thread only.
/// </para>
/// </remarks>
internal sealed class KernelFibMirror(uint table, NicIndexMap nics, KernelRouteSyncCounters counters)
{
    private readonly Dictionary<Ipv4Prefix, List<Entry>> _v4 = [];
    private readonly Dictionary<Ipv6Prefix, List<Entry>> _v6 = [];
    private readonly HashSet<Ipv4Prefix> _dirty4 = [];
    private readonly HashSet<Ipv6Prefix> _dirty6 = [];
    // Routes held per family, kept as they change: summing the dictionaries per status update cost O(table) each time.
    private int _count4;
    private int _count6;

    /// <summary>True when some prefix changed since the last <see cref="TakeDirty"/>.</summary>
    public bool HasChanges => _dirty4.Count + _dirty6.Count > 0;

    /// <summary>Applies one route message to the mirror.</summary>
    public void Apply(KernelRouteChange change)
    {
        KernelRoute route = change.Route;
        if (route.Table != table)
        {
            counters.OtherTable++;
            return;
        }
        if (route.IsCloned)
        {
            counters.Cloned++;
            return;
        }
        if (route.Family == AddressFamily.InterNetwork)
        {
            Ipv4Prefix prefix = Ipv4Prefix.Containing(ToIpv4(route.Destination), route.PrefixLength);
            if (Apply(_v4, prefix, change, ref _count4))
                _dirty4.Add(prefix);
        }
        else
        {
            Ipv6Prefix prefix = Ipv6Prefix.Containing(new Ipv6Address(route.Destination.GetAddressBytes()), route.PrefixLength);
            if (Apply(_v6, prefix, change, ref _count6))
                _dirty6.Add(prefix);
        }
    }

    /// <summary>Makes the mirror what <paramref name="dump"/> says, marking every prefix that was or is in it.</summary>
    public void ReplaceAll(IEnumerable<KernelRouteChange> dump)
    {
        _dirty4.UnionWith(_v4.Keys);
        _dirty6.UnionWith(_v6.Keys);
        _v4.Clear();
        _v6.Clear();
        _count4 = _count6 = 0;
        foreach (KernelRouteChange change in dump)
            Apply(change);
    }

    /// <summary>Marks every prefix, so the next <see cref="TakeDirty"/> maps all routes again (after the NIC map changed).</summary>
    public void MarkAllDirty()
    {
        _dirty4.UnionWith(_v4.Keys);
        _dirty6.UnionWith(_v6.Keys);
    }

    /// <summary>The stack routes of every prefix changed since the last call (null: none now), mapped through the NIC map; clears the marks.</summary>
    public (List<KeyValuePair<Ipv4Prefix, KernelPrefixRoutes<Ipv4Route>?>> Ipv4, List<KeyValuePair<Ipv6Prefix, KernelPrefixRoutes<Ipv6Route>?>> Ipv6) TakeDirty()
    {
        var v4 = new List<KeyValuePair<Ipv4Prefix, KernelPrefixRoutes<Ipv4Route>?>>(_dirty4.Count);
        foreach (Ipv4Prefix prefix in _dirty4)
        {
            v4.Add(new(prefix, Build(_v4.GetValueOrDefault(prefix), (hop, nic, metric) =>
                new Ipv4Route(prefix, hop.Gateway is null ? Ipv4Address.Any : ToIpv4(hop.Gateway), nic, metric, hop.Weight))));
        }
        var v6 = new List<KeyValuePair<Ipv6Prefix, KernelPrefixRoutes<Ipv6Route>?>>(_dirty6.Count);
        foreach (Ipv6Prefix prefix in _dirty6)
        {
            v6.Add(new(prefix, Build(_v6.GetValueOrDefault(prefix), (hop, nic, metric) =>
                new Ipv6Route(prefix, hop.Gateway is null ? Ipv6Address.Any : new Ipv6Address(hop.Gateway.GetAddressBytes()), nic, metric, hop.Weight))));
        }
        _dirty4.Clear();
        _dirty6.Clear();
        return (v4, v6);
    }

    /// <summary>Routes held (IPv4, IPv6), counting each route once whatever its next hops.</summary>
    public (int Ipv4, int Ipv6) Count => (_count4, _count6);

    private bool Apply<TPrefix>(Dictionary<TPrefix, List<Entry>> routes, TPrefix prefix, KernelRouteChange change, ref int count)
        where TPrefix : notnull
    {
        KernelRoute route = change.Route;
        counters.OtherFamilyGateway += route.OtherFamilyGateways;
        List<Entry>? entries = routes.GetValueOrDefault(prefix);
        Entry? entry = entries?.Find(e => e.Metric == route.Metric);
        if (!route.IsUnicast)
        {
            string type = TypeName(route.Type);
            counters.NotUnicast[type] = counters.NotUnicast.GetValueOrDefault(type) + 1;
            // The kernel now forwards nothing for this key, so neither may the mirror.
            return change.Kind == KernelRouteChangeKind.Replace && entry is not null && Drop(routes, prefix, entries!, entry, ref count);
        }
        if (change.Kind == KernelRouteChangeKind.Remove)
        {
            if (entry is null)
                return false;
            int removed = entry.Hops.RemoveAll(h => route.NextHops.Any(h.IsSamePath));
            if (removed == 0 || entry.Hops.Count == 0)
                Drop(routes, prefix, entries!, entry, ref count);
            return true;
        }
        if (!route.NextHops.Any(h => nics.TryGetNic(h.IfIndex, out _)))
            counters.NoOwnedInterface++;
        if (entry is null)
        {
            entry = new Entry(route.Metric);
            if (entries is null)
                routes[prefix] = entries = [];
            entries.Add(entry);
            entries.Sort((a, b) => a.Metric.CompareTo(b.Metric));
            count++;
        }
        else if (change.Kind == KernelRouteChangeKind.Replace)
        {
            entry.Hops.Clear();
        }
        entry.Protocol = route.Protocol;
        foreach (KernelNextHop hop in route.NextHops)
        {
            // A next hop already there takes the weight the kernel states now.
            int known = entry.Hops.FindIndex(hop.IsSamePath);
            if (known < 0)
                entry.Hops.Add(hop);
            else
                entry.Hops[known] = hop;
        }
        if (entry.Hops.Count == 0)
            Drop(routes, prefix, entries!, entry, ref count);
        return true;
    }

    private static bool Drop<TPrefix>(Dictionary<TPrefix, List<Entry>> routes, TPrefix prefix, List<Entry> entries, Entry entry, ref int count)
        where TPrefix : notnull
    {
        entries.Remove(entry);
        count--;
        if (entries.Count == 0)
            routes.Remove(prefix);
        return true;
    }

    private KernelPrefixRoutes<TRoute>? Build<TRoute>(List<Entry>? entries, Func<KernelNextHop, int, int, TRoute> make)
        where TRoute : class
    {
        if (entries is null)
            return null;
        var routes = new List<TRoute>();
        var protocols = new List<byte>();
        foreach (Entry entry in entries)
        {
            // Kernel metrics are unsigned 32-bit; the stack's are int, and no daemon uses the top half.
            int metric = (int)Math.Min(entry.Metric, int.MaxValue);
            foreach (KernelNextHop hop in entry.Hops)
            {
                if (!nics.TryGetNic(hop.IfIndex, out Stack.NicId nic))
                    continue;
                TRoute stackRoute = make(hop, nic.Value, metric);
                if (routes.Contains(stackRoute))
                    continue;
                routes.Add(stackRoute);
                protocols.Add(entry.Protocol);
            }
        }
        return routes.Count == 0 ? null : new KernelPrefixRoutes<TRoute>([.. routes], [.. protocols]);
    }

    private static Ipv4Address ToIpv4(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return Ipv4Address.Read(bytes);
    }

    /// <summary>rtm_type as <c>ip route</c> names it.</summary>
    public static string TypeName(byte type) => type switch
    {
        1 => "unicast",
        2 => "local",
        3 => "broadcast",
        4 => "anycast",
        5 => "multicast",
        6 => "blackhole",
        7 => "unreachable",
        8 => "prohibit",
        9 => "throw",
        10 => "nat",
        11 => "xresolve",
        _ => "type " + type.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private sealed class Entry(uint metric)
    {
        public uint Metric { get; } = metric;

        public byte Protocol { get; set; }

        public List<KernelNextHop> Hops { get; } = [];
    }
}
