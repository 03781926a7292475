using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests;

public class RouteTests
{
    private static readonly Ipv4Address Remote = Ipv4Address.Parse("198.18.0.1");
    private static readonly Ipv4Prefix Subnet = Ipv4Prefix.Parse("198.18.0.0/24");

    private static StackFixture WithSubnetRoute(LinkCapabilities capabilities = LinkCapabilities.None)
    {
        var f = new StackFixture(capabilities: capabilities);
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv4Route(Subnet, Ipv4Address.Any, 1)));
        return f;
    }

    [Fact]
    public void RouteHeld_AddressRemoved_WriteFailsNewRouteUnreachableReleaseSafe()
    {
        var f = WithSubnetRoute();
        Assert.Equal(StackError.None, f.Stack.FindRoute(StackFixture.Nic1, Remote, out Route? route));
        Assert.Equal(StackError.None, route!.WritePacket(IpProtocol.Udp, new byte[8]));
        Assert.Single(f.Link.ReadAll());

        Assert.Equal(StackError.None, f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp));
        Assert.Equal(StackError.InvalidEndpointState, route.WritePacket(IpProtocol.Udp, new byte[8]));
        Assert.Empty(f.Link.ReadAll());
        Assert.Equal(StackError.NetworkUnreachable, f.Stack.FindRoute(StackFixture.Nic1, Remote, out Route? none));
        Assert.Null(none);

        route.Release();
        route.Release();
        Assert.Null(f.Nic.FindEndpoint(Packets.StackIp));
    }

    [Fact]
    public void RouteHeld_AddressRemovedWhileSpoofing_StillWrites()
    {
        var f = WithSubnetRoute();
        f.Stack.FindRoute(StackFixture.Nic1, Remote, out Route? route);
        f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp);
        f.Stack.SetSpoofing(StackFixture.Nic1, true);
        Assert.Equal(StackError.None, route!.WritePacket(IpProtocol.Udp, new byte[8]));
        route.Release();
    }

    [Fact]
    public void RouteThroughDownNic_SkippedAndWriteFailsUntilUp()
    {
        var f = WithSubnetRoute();
        var link2 = new ChannelEndpoint(MacAddress.Parse("02:00:00:00:00:03"), capabilities: LinkCapabilities.None);
        f.Stack.CreateNic(new NicId(2), link2, "eth1");
        f.Stack.AddAddress(new NicId(2), Ipv4Address.Parse("198.19.0.2"), 24);
        f.Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("0.0.0.0/0"), Ipv4Address.Parse("198.19.0.1"), 2));

        f.Stack.FindRoute(NicId.Any, Remote, out Route? route);
        Assert.Equal(new NicId(1), route!.NicId);

        f.Stack.DisableNic(StackFixture.Nic1);
        Assert.Equal(StackError.InvalidEndpointState, route.WritePacket(IpProtocol.Udp, new byte[8]));
        Assert.Equal(StackError.None, f.Stack.FindRoute(NicId.Any, Remote, out Route? viaDefault));
        Assert.Equal(new NicId(2), viaDefault!.NicId);
        Assert.Equal(new IpAddress(Ipv4Address.Parse("198.19.0.1")), viaDefault.NextHop);
        viaDefault.Release();

        f.Stack.EnableNic(StackFixture.Nic1);
        Assert.Equal(StackError.None, route.WritePacket(IpProtocol.Udp, new byte[8]));
        route.Release();
    }

    [Fact]
    public void AddRoute_EqualPrefix_GoesAfterExisting_LongestFirst()
    {
        var f = new StackFixture();
        f.Stack.CreateNic(new NicId(2), new ChannelEndpoint(MacAddress.Parse("02:00:00:00:00:03")), "eth1");
        var first = new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/16"), Ipv4Address.Any, 1);
        var second = new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/16"), Ipv4Address.Any, 2);
        var longer = new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 2);
        f.Stack.AddRoute(first);
        f.Stack.AddRoute(second);
        f.Stack.AddRoute(longer);
        Assert.Equal([longer, first, second], f.Stack.Routes.Ipv4Routes);
        Assert.Equal(StackError.UnknownNicId, f.Stack.AddRoute(new Ipv4Route(Subnet, Ipv4Address.Any, 9)));
    }

    [Fact]
    public void OutgoingLimitedBroadcast_NoRouteTableNeededIfNicHasAddress()
    {
        var f = new StackFixture(capabilities: LinkCapabilities.ResolutionRequired);
        Assert.Equal(StackError.None, f.Stack.FindRoute(StackFixture.Nic1, Ipv4Address.Any, Ipv4Address.Broadcast, out Route? route));
        Assert.Equal(MacAddress.Broadcast, route!.RemoteLinkAddress);
        Assert.Equal(new IpAddress(Packets.StackIp), route.LocalAddress);
        Assert.Equal(StackError.None, route.WritePacket(IpProtocol.Udp, new byte[8]));
        Assert.True(MacAddress.Read(Assert.Single(f.Link.ReadAll())).IsBroadcast);
        route.Release();

        var empty = new StackFixture(addAddress: false);
        Assert.Equal(StackError.NetworkUnreachable, empty.Stack.FindRoute(StackFixture.Nic1, Ipv4Address.Any, Ipv4Address.Broadcast, out _));
        Assert.Equal(StackError.NetworkUnreachable, f.Stack.FindRoute(new NicId(9), Ipv4Address.Any, Ipv4Address.Broadcast, out _));
    }

    [Theory]
    [InlineData("198.18.0.0/24", "198.18.0.255", true)]
    [InlineData("198.18.0.0/31", "198.18.0.1", false)]
    [InlineData("198.18.0.2/32", "198.18.0.2", false)]
    public void OutgoingSubnetBroadcast_LocalSubnetUsesBroadcastMac(string routePrefix, string remote, bool broadcast)
    {
        var f = new StackFixture(addAddress: false, capabilities: LinkCapabilities.ResolutionRequired);
        var prefix = Ipv4Prefix.Parse(routePrefix);
        f.Stack.AddAddress(StackFixture.Nic1, prefix.Length == 32 ? prefix.Address : Ipv4Address.Parse("198.18.0.0"), prefix.Length);
        f.Stack.AddRoute(new Ipv4Route(prefix, Ipv4Address.Any, 1));
        Assert.Equal(StackError.None, f.Stack.FindRoute(StackFixture.Nic1, Ipv4Address.Parse(remote), out Route? route));
        Assert.Equal(broadcast, route!.RemoteLinkAddress == MacAddress.Broadcast);
        route.Release();
    }

    [Fact]
    public void OutgoingSubnetBroadcast_RemoteSubnetGoesToGateway()
    {
        var f = new StackFixture(capabilities: LinkCapabilities.ResolutionRequired);
        var gateway = Ipv4Address.Parse("198.18.0.1");
        f.Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.19.0.0/24"), gateway, 1));
        f.Stack.FindRoute(StackFixture.Nic1, Ipv4Address.Parse("198.19.0.255"), out Route? route);
        Assert.Null(route!.RemoteLinkAddress);
        Assert.Equal(new IpAddress(gateway), route.NextHop);
        route.Release();
    }

    [Fact]
    public void MulticastOrIpv6LinkLocal_NeedsNoRoute()
    {
        var f = new StackFixture(addAddress: false, capabilities: LinkCapabilities.ResolutionRequired);
        f.Stack.AddAddress(StackFixture.Nic1, Packets.StackIp, 24);
        f.Stack.AddAddress(StackFixture.Nic1, Ipv6Address.Parse("fe80::2"), 64);
        Assert.Empty(f.Stack.Routes.Ipv4Routes);

        var group = Ipv4Address.Parse("224.0.0.251");
        Assert.Equal(StackError.None, f.Stack.FindRoute(StackFixture.Nic1, Ipv4Address.Any, group, out Route? mcast));
        Assert.Equal(MacAddress.FromIpv4Multicast(group), mcast!.RemoteLinkAddress);
        mcast.Release();

        Assert.Equal(StackError.None, f.Stack.FindRoute(StackFixture.Nic1, Ipv6Address.Any, Ipv6Address.Parse("fe80::1"), out Route? linkLocal));
        Assert.Equal(new IpAddress(Ipv6Address.Parse("fe80::2")), linkLocal!.LocalAddress);
        linkLocal.Release();

        // A unicast global destination still needs a route.
        Assert.Equal(StackError.NetworkUnreachable, f.Stack.FindRoute(StackFixture.Nic1, Remote, out _));
        // And a NIC must be named for the route-less cases.
        Assert.Equal(StackError.NetworkUnreachable, f.Stack.FindRoute(NicId.Any, Ipv4Address.Any, group, out _));
    }

    [Fact]
    public void Spoofing_FindRouteWithUnownedLocalAddress_OnlyWhenOn()
    {
        var f = WithSubnetRoute();
        var spoofed = Ipv4Address.Parse("198.18.0.99");
        Assert.Equal(StackError.NetworkUnreachable, f.Stack.FindRoute(StackFixture.Nic1, spoofed, Remote, out _));
        f.Stack.SetSpoofing(StackFixture.Nic1, true);
        Assert.Equal(StackError.None, f.Stack.FindRoute(StackFixture.Nic1, spoofed, Remote, out Route? route));
        Assert.Equal(new IpAddress(spoofed), route!.LocalAddress);
        Assert.Equal(AddressKind.Temporary, route.LocalEndpoint.Kind);
        Assert.Equal(StackError.None, route.WritePacket(IpProtocol.Udp, new byte[8]));
        Assert.Equal(spoofed, Packets.IpSource(Assert.Single(f.Link.ReadAll())));
        route.Release();
        Assert.Null(f.Nic.FindEndpoint(spoofed));
    }

    [Fact]
    public void Promiscuous_FindRouteWithUnownedLocalAddress_StillFails()
    {
        var f = WithSubnetRoute();
        f.Stack.SetPromiscuous(StackFixture.Nic1, true);
        Assert.Equal(StackError.NetworkUnreachable, f.Stack.FindRoute(StackFixture.Nic1, Ipv4Address.Parse("198.18.0.99"), Remote, out _));
    }

    [Fact]
    public void FindRoute_LocalAddressOnOtherNic_ForwardedFallbackOnlyWhenForwarding()
    {
        // NIC 1 owns the local address; the only route goes out NIC 2, which has no address.
        var f = new StackFixture(capabilities: LinkCapabilities.None);
        f.Stack.CreateNic(new NicId(2), new ChannelEndpoint(MacAddress.Parse("02:00:00:00:00:03"), capabilities: LinkCapabilities.None), "eth1");
        var far = Ipv4Address.Parse("198.19.5.5");
        f.Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.19.0.0/16"), Ipv4Address.Any, 2));
        Assert.Equal(StackError.NetworkUnreachable, f.Stack.FindRoute(NicId.Any, far, out _));

        f.Stack.SetForwarding(new NicId(2), EtherType.Ipv4, true, out _);
        Assert.Equal(StackError.None, f.Stack.FindRoute(NicId.Any, far, out Route? route));
        Assert.Equal(new NicId(2), route!.NicId);
        Assert.Equal(new IpAddress(Packets.StackIp), route.LocalAddress);
        route.Release();
        // Naming the outgoing NIC asks for its own address: no fallback.
        Assert.Equal(StackError.NetworkUnreachable, f.Stack.FindRoute(new NicId(2), far, out _));
    }
}
