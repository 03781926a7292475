using System.Net;
using XdpStack.Appliance.Routing;
using XdpStack.Stack;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;
using XdpStack.Xdp.Routes;

namespace XdpStack.Appliance.Tests.Routing;

/// <summary>KernelFibMirror: how route messages change the mirror, what it skips, and the stack routes it makes.</summary>
public sealed class KernelFibMirrorTests
{
    private const uint Main = 254;
    private readonly NicIndexMap _nics = new();
    private readonly KernelRouteSyncCounters _counters = new();
    private readonly KernelFibMirror _mirror;

    public KernelFibMirrorTests()
    {
        _nics.Register(3, new NicId(1));
        _nics.Register(2, new NicId(2));
        _mirror = new KernelFibMirror(Main, _nics, _counters);
    }

    [Fact]
    public void Apply_Multipath_OneRoutePerNextHopWithTheSamePrefixAndMetric()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, metric: 20, protocol: 12, hops: [(3, "198.18.1.2"), (2, "198.18.2.2")]));

        (var v4, var v6) = _mirror.TakeDirty();

        KernelPrefixRoutes<Ipv4Route> routes = Assert.Single(v4).Value!;
        Assert.Equal(
        [
            new Ipv4Route(Ipv4Prefix.Parse("198.19.6.0/24"), Ipv4Address.Parse("198.18.1.2"), 1, 20),
            new Ipv4Route(Ipv4Prefix.Parse("198.19.6.0/24"), Ipv4Address.Parse("198.18.2.2"), 2, 20),
        ], routes.Routes);
        Assert.Equal([(byte)12, (byte)12], routes.Protocols);
        Assert.Empty(v6);
        Assert.False(_mirror.HasChanges);
    }

    [Fact]
    public void Apply_Ipv4AppendThenDeleteOneAlias_TheOtherStays()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, hops: [(3, "198.18.1.2")]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, hops: [(2, "198.18.2.2")]));
        _mirror.Apply(Change(KernelRouteChangeKind.Remove, "198.19.6.0", 24, hops: [(3, "198.18.1.2")]));

        Ipv4Route route = Assert.Single(Assert.Single(_mirror.TakeDirty().Ipv4).Value!.Routes);
        Assert.Equal((Ipv4Address.Parse("198.18.2.2"), 2), (route.Gateway, route.Nic));
    }

    [Fact]
    public void Apply_Replace_NextHopsReplaced()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "2001:2:0:9::", 64, hops: [(3, "2001:2:0:1::2")]));
        _mirror.Apply(Change(KernelRouteChangeKind.Replace, "2001:2:0:9::", 64, hops: [(2, "fe80::2")]));

        Ipv6Route route = Assert.Single(Assert.Single(_mirror.TakeDirty().Ipv6).Value!.Routes);
        Assert.Equal(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:9::/64"), Ipv6Address.Parse("fe80::2"), 2, 0), route);
    }

    [Fact]
    public void Apply_DeleteWithoutMatchingNextHop_WholeRouteGoes_AndOtherMetricsStay()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, metric: 10, hops: [(3, "198.18.1.2")]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, metric: 20, hops: [(2, "198.18.2.2")]));
        _mirror.Apply(Change(KernelRouteChangeKind.Remove, "198.19.6.0", 24, metric: 10, hops: [(9, null)]));

        Ipv4Route route = Assert.Single(Assert.Single(_mirror.TakeDirty().Ipv4).Value!.Routes);
        Assert.Equal(20, route.Metric);
        _mirror.Apply(Change(KernelRouteChangeKind.Remove, "198.19.6.0", 24, metric: 20, hops: [(2, "198.18.2.2")]));
        Assert.Null(Assert.Single(_mirror.TakeDirty().Ipv4).Value);
    }

    [Fact]
    public void Apply_OtherTableClonedBlackholeAndForeignInterface_SkippedAndCounted()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.1.0", 24, table: 100, hops: [(3, null)]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.2.0", 24, flags: KernelRoute.ClonedFlag, hops: [(3, null)]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.3.0", 24, type: 6, hops: [(0, null)]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.4.0", 24, type: 7, hops: [(0, null)]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.5.0", 24, hops: [(42, "198.18.9.1")]));

        var (v4, _) = _mirror.TakeDirty();

        // The foreign route is held (a later registration of ifindex 42 brings it in) but maps to nothing.
        Assert.Equal(KeyValuePair.Create(Ipv4Prefix.Parse("198.19.5.0/24"), (KernelPrefixRoutes<Ipv4Route>?)null), Assert.Single(v4));
        Assert.Equal((1L, 1L, 1L), (_counters.OtherTable, _counters.Cloned, _counters.NoOwnedInterface));
        Assert.Equal(new Dictionary<string, long> { ["blackhole"] = 1, ["unreachable"] = 1 }, _counters.NotUnicast);
    }

    [Fact]
    public void Apply_ForeignInterfaceRegisteredLater_RouteMapsToTheNic()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.5.0", 24, hops: [(42, "198.18.9.1")]));
        _mirror.TakeDirty();

        _nics.Register(42, new NicId(2));
        _mirror.MarkAllDirty();

        Ipv4Route route = Assert.Single(Assert.Single(_mirror.TakeDirty().Ipv4).Value!.Routes);
        Assert.Equal(2, route.Nic);
    }

    [Fact]
    public void Apply_BlackholeReplacesUnicast_RouteGoes()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, hops: [(3, "198.18.1.2")]));
        _mirror.TakeDirty();
        _mirror.Apply(Change(KernelRouteChangeKind.Replace, "198.19.6.0", 24, type: 6, hops: [(0, null)]));

        Assert.Null(Assert.Single(_mirror.TakeDirty().Ipv4).Value);
    }

    [Fact]
    public void ReplaceAll_Dump_PrefixesGoneAndNewBothRepublished()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.1.0", 24, hops: [(3, null)]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.2.0", 24, hops: [(3, null)]));
        _mirror.TakeDirty();

        _mirror.ReplaceAll([Change(KernelRouteChangeKind.Add, "198.19.2.0", 24, hops: [(3, null)]), Change(KernelRouteChangeKind.Add, "198.19.3.0", 24, hops: [(2, null)])]);

        var v4 = _mirror.TakeDirty().Ipv4.ToDictionary(p => p.Key.ToString(), p => p.Value?.Routes.Length ?? 0);
        Assert.Equal(new Dictionary<string, int> { ["198.19.1.0/24"] = 0, ["198.19.2.0/24"] = 1, ["198.19.3.0/24"] = 1 }, v4);
        Assert.Equal((2, 0), _mirror.Count);
    }

    [Fact]
    public void Apply_WeightedMultipath_EachStackRouteCarriesItsNextHopsWeight()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, metric: 20, weighted: [(3, "198.18.1.2", 1), (2, "198.18.2.2", 3)]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "2001:2:0:9::", 64, weighted: [(3, "2001:2:0:1::2", 2), (2, "2001:2:0:2::2", 256)]));

        (var v4, var v6) = _mirror.TakeDirty();

        Assert.Equal(
        [
            new Ipv4Route(Ipv4Prefix.Parse("198.19.6.0/24"), Ipv4Address.Parse("198.18.1.2"), 1, 20, Weight: 1),
            new Ipv4Route(Ipv4Prefix.Parse("198.19.6.0/24"), Ipv4Address.Parse("198.18.2.2"), 2, 20, Weight: 3),
        ], Assert.Single(v4).Value!.Routes);
        Assert.Equal([2, 256], Assert.Single(v6).Value!.Routes.Select(r => r.Weight));
    }

    [Fact]
    public void Apply_NextHopRestatedWithAnotherWeight_OneNextHopWithTheNewWeight()
    {
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, weighted: [(3, "198.18.1.2", 1), (2, "198.18.2.2", 1)]));
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, weighted: [(2, "198.18.2.2", 4)]));

        Ipv4Route[] routes = Assert.Single(_mirror.TakeDirty().Ipv4).Value!.Routes;
        Assert.Equal([(1, 1), (2, 4)], routes.Select(r => (r.Nic, r.Weight)));
    }

    [Fact]
    public void Apply_DeleteNamingANextHopWithoutItsWeight_RemovesIt()
    {
        // A delete may state the next hop with any weight (ip route del ... nexthop via X without one): it is the same path.
        _mirror.Apply(Change(KernelRouteChangeKind.Add, "198.19.6.0", 24, weighted: [(3, "198.18.1.2", 2), (2, "198.18.2.2", 5)]));
        _mirror.Apply(Change(KernelRouteChangeKind.Remove, "198.19.6.0", 24, hops: [(2, "198.18.2.2")]));

        Ipv4Route route = Assert.Single(Assert.Single(_mirror.TakeDirty().Ipv4).Value!.Routes);
        Assert.Equal((1, 2), (route.Nic, route.Weight));
    }

    internal static KernelRouteChange Change(
        KernelRouteChangeKind kind, string destination, int prefixLength, uint metric = 0, byte protocol = 3, uint table = Main,
        byte type = KernelRoute.UnicastType, uint flags = 0, (int IfIndex, string? Gateway)[]? hops = null,
        (int IfIndex, string? Gateway, int Weight)[]? weighted = null)
    {
        IPAddress address = IPAddress.Parse(destination);
        weighted ??= [.. (hops ?? []).Select(h => (h.IfIndex, h.Gateway, 1))];
        var route = new KernelRoute(address.AddressFamily, address, prefixLength, table, protocol, type, flags, metric,
            [.. weighted.Select(h => new KernelNextHop(h.IfIndex, h.Gateway is null ? null : IPAddress.Parse(h.Gateway), h.Weight))], 0);
        return new KernelRouteChange(kind, route);
    }
}
