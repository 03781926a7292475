using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>A stack routing IPv6 between two channel NICs: nic 1 on 2001:2:0:1::/64 (host A behind it), nic 2 on 2001:2:0:2::/64 (host B, and a gateway to 2001:2:0:40::/60).</summary>
internal sealed class Router6Fixture : TwoNicRouterFixture
{
    public static readonly NicId Nic1 = new(1);
    public static readonly NicId Nic2 = new(2);
    public static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:01:01");
    public static readonly MacAddress Mac2 = MacAddress.Parse("02:00:00:00:02:01");
    public static readonly MacAddress HostAMac = MacAddress.Parse("02:00:00:00:01:0a");
    public static readonly MacAddress HostBMac = MacAddress.Parse("02:00:00:00:02:0a");
    public static readonly MacAddress GatewayMac = MacAddress.Parse("02:00:00:00:02:fe");
    public static readonly Ipv6Address Ip1 = Ipv6Address.Parse("2001:2:0:1::1");
    public static readonly Ipv6Address Ip2 = Ipv6Address.Parse("2001:2:0:2::1");
    public static readonly Ipv6Address HostA = Ipv6Address.Parse("2001:2:0:1::a");
    public static readonly Ipv6Address HostB = Ipv6Address.Parse("2001:2:0:2::a");
    public static readonly Ipv6Address Gateway = Ipv6Address.Parse("2001:2:0:2::fe");
    public static readonly Ipv6Address BeyondGateway = Ipv6Address.Parse("2001:2:0:45::5");

    public Router6Fixture(int mtu2 = 1500, bool forwarding = true, bool resolveHostB = true, bool installForwarder = true, TimeSpan? icmpPeerInterval = null, bool sendRedirects = true)
        : base(Mac1, Mac2, mtu2)
    {
        CreateStack(new StackOptions { Clock = Clock, IcmpPeerInterval = icmpPeerInterval ?? new StackOptions().IcmpPeerInterval, Icmpv6PeerInterval = icmpPeerInterval ?? new StackOptions().Icmpv6PeerInterval, SendRedirects = sendRedirects });
        Assert.Equal(StackError.None, Stack.AddAddress(Nic1, Ip1, 64));
        Assert.Equal(StackError.None, Stack.AddAddress(Nic2, Ip2, 64));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:1::/64"), Ipv6Address.Any, 1)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:2::/64"), Ipv6Address.Any, 2)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:40::/60"), Gateway, 2)));
        if (installForwarder)
            Stack.Ipv6Forwarder = new Ipv6Forwarder();
        Assert.Equal(StackError.None, Stack.SetForwarding(Nic1, EtherType.Ipv6, forwarding, out _));
        Assert.Equal(StackError.None, Stack.SetForwarding(Nic2, EtherType.Ipv6, forwarding, out _));
        Stack.Nics[Nic2].Ipv6Neighbors.AddStatic(Gateway, GatewayMac);
        if (resolveHostB)
            Stack.Nics[Nic2].Ipv6Neighbors.AddStatic(HostB, HostBMac);
        Link1.Clear();
        Link2.Clear();
    }

    /// <summary>The UDP datagram every <see cref="FromA"/> packet carries, <paramref name="payloadLength"/> octets of data behind the 8-octet header.</summary>
    public static byte[] Udp(int payloadLength) => UdpDatagram(payloadLength);

    /// <summary>An IPv6 packet from host A (UDP unless <paramref name="hopByHop"/> puts a Hop-by-Hop header first), sent to the router's MAC on link 1.</summary>
    public static byte[] FromA(Ipv6Address destination, byte hopLimit = 64, int payloadLength = 32, Ipv6Address? source = null, byte[]? hopByHop = null)
    {
        byte[] udp = Udp(payloadLength);
        if (hopByHop is null)
            return Packets6.Ipv6(source ?? HostA, destination, 17, udp, hopLimit, to: Mac1, from: HostAMac);
        return Packets6.Ipv6(source ?? HostA, destination, 0, [.. hopByHop, .. udp], hopLimit, to: Mac1, from: HostAMac);
    }
}
