using XdpStack.Appliance.Routing;
using XdpStack.Appliance.Run;
using XdpStack.Stack;
using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Tests.Routing;

/// <summary>RouteRegistry's precedence rule (config and connected routes shadow kernel routes of the same prefix) and that reloads and syncs leave each other's routes alone.</summary>
public sealed class RouteRegistryTests
{
    private static readonly Ipv4Prefix Behind = Ipv4Prefix.Parse("198.19.0.0/16");
    private readonly NetworkStack _stack = new();
    private readonly RouteRegistry _registry;

    public RouteRegistryTests()
    {
        Assert.Equal(StackError.None, _stack.CreateNic(new NicId(1), new ChannelEndpoint(MacAddress.Parse("02:00:00:00:00:01")), "a"));
        Assert.Equal(StackError.None, _stack.CreateNic(new NicId(2), new ChannelEndpoint(MacAddress.Parse("02:00:00:00:00:02")), "b"));
        _registry = new RouteRegistry(_stack);
    }

    [Fact]
    public void SetKernel_PrefixAlsoConfigured_ConfigRouteWinsWhateverTheMetric_KernelRouteReturnsWhenConfigGoes()
    {
        var config = new Ipv4Route(Behind, Ipv4Address.Parse("198.18.1.2"), 1, Metric: 100);
        var kernel = new Ipv4Route(Behind, Ipv4Address.Parse("198.18.2.2"), 2, Metric: 0);
        _registry.SetStatic([(config, RouteOrigin.Config)], []);

        _registry.SetKernel([Kernel(kernel, protocol: 12)], []);

        Assert.Equal([config], _stack.Routes.Ipv4Routes);
        Assert.Equal(1, _registry.ShadowedPrefixes);
        _registry.SetStatic([], []);
        Assert.Equal([kernel], _stack.Routes.Ipv4Routes);
        Assert.Equal((RouteOrigin.Kernel, (byte)12), _registry.SourceOf(kernel));
    }

    [Fact]
    public void SetKernel_MoreSpecificThanAConfigRoute_BothInTheTable_LongestMatchWins()
    {
        var config = new Ipv4Route(Behind, Ipv4Address.Parse("198.18.1.2"), 1);
        var kernel = new Ipv4Route(Ipv4Prefix.Parse("198.19.5.0/24"), Ipv4Address.Parse("198.18.2.2"), 2, Metric: 20);
        _registry.SetStatic([(config, RouteOrigin.Config)], []);
        _registry.SetKernel([Kernel(kernel, protocol: 12)], []);

        Assert.Equal(kernel, _stack.Routes.Lookup(Ipv4Address.Parse("198.19.5.1")));
        Assert.Equal(config, _stack.Routes.Lookup(Ipv4Address.Parse("198.19.6.1")));
    }

    [Fact]
    public void Reload_StackPlanChanges_KernelRoutesStay()
    {
        var host = new PlannedAddress(new NicId(1), IpAddress.Parse("198.18.1.1"), 24);
        var kernel4 = new Ipv4Route(Ipv4Prefix.Parse("198.19.5.0/24"), Ipv4Address.Parse("198.18.1.2"), 1, Metric: 20);
        var kernel6 = new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:9::/64"), Ipv6Address.Parse("fe80::2"), 2, Metric: 1024);
        StackPlan first = Plan([host], []);
        first.Apply(_stack, _registry);
        _registry.SetKernel([Kernel(kernel4, 11)], [new(kernel6.Destination, new KernelPrefixRoutes<Ipv6Route>([kernel6], [12]))]);

        var config = new Ipv4Route(Behind, Ipv4Address.Parse("198.18.1.2"), 1);
        StackPlan second = Plan([host], [config]);
        IReadOnlyList<string> changes = second.ApplyChanges(_stack, first, _registry);
        StackPlan third = Plan([host], []);
        third.ApplyChanges(_stack, second, _registry);

        Assert.Contains(changes, c => c.Contains("198.19.0.0/16", StringComparison.Ordinal));
        Assert.Equal([new Ipv4Route(Ipv4Prefix.Parse("198.18.1.0/24"), Ipv4Address.Any, 1), kernel4], _stack.Routes.Ipv4Routes);
        Assert.Equal([kernel6], _stack.Routes.Ipv6Routes);
        Assert.Equal((RouteOrigin.Connected, (byte)0), _registry.SourceOf(_stack.Routes.Ipv4Routes[0]));
    }

    [Fact]
    public void SetKernel_PrefixGone_OnlyItsKernelRoutesLeave_ConnectedAndConfigStay()
    {
        var connected = new Ipv4Route(Ipv4Prefix.Parse("198.18.1.0/24"), Ipv4Address.Any, 1);
        var config = new Ipv4Route(Behind, Ipv4Address.Parse("198.18.1.2"), 1);
        var kernel = new Ipv4Route(Ipv4Prefix.Parse("198.19.5.0/24"), Ipv4Address.Parse("198.18.1.2"), 1, Metric: 20);
        _registry.SetStatic([(connected, RouteOrigin.Connected), (config, RouteOrigin.Config)], []);
        _registry.SetKernel([Kernel(kernel, 12)], []);
        long version = _stack.Routes.Version;

        // A connected route's prefix in the kernel (proto kernel) stays shadowed; the gone prefix leaves.
        _registry.SetKernel([new(kernel.Destination, null), Kernel(connected, 2)], []);

        Assert.Equal([connected, config], _stack.Routes.Ipv4Routes);
        Assert.Equal(version + 1, _stack.Routes.Version);
        Assert.Equal((RouteOrigin.Config, (byte)0), _registry.SourceOf(config));
    }

    [Fact]
    public void SetKernel_SameRoutesAgain_NoPublication()
    {
        var kernel = new Ipv4Route(Ipv4Prefix.Parse("198.19.5.0/24"), Ipv4Address.Parse("198.18.1.2"), 1, Metric: 20);
        _registry.SetKernel([Kernel(kernel, 12)], []);
        long version = _stack.Routes.Version;

        Assert.False(_registry.SetKernel([Kernel(kernel, 12)], []));
        Assert.Equal(version, _stack.Routes.Version);
    }

    private static KeyValuePair<Ipv4Prefix, KernelPrefixRoutes<Ipv4Route>?> Kernel(Ipv4Route route, byte protocol) =>
        new(route.Destination, new KernelPrefixRoutes<Ipv4Route>([route], [protocol]));

    private static StackPlan Plan(PlannedAddress[] addresses, Ipv4Route[] config) =>
        new(addresses, [.. StackPlan.ConnectedIpv4(addresses), .. config], [.. StackPlan.ConnectedIpv6(addresses)], [], []);
}
