using XdpStack.Stack;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Router;

/// <summary>
/// The stack the receive-path and fast-path targets drive: two channel NICs routing IPv4 and IPv6, with forwarding,
/// source routes accepted, UDP echo (7) and discard (9) answered, and TCP echo (7), discard (9) and HTTP (80) served,
/// as <c>xdpstack run</c> sets a router and responder up.
/// </summary>
/// <remarks>
/// Nic 1 is the device under test of the repository's Linux captures (02:00:00:00:00:02, 198.18.0.2/24,
/// 2001:2::2/64), so captured frames reach it as they reached Linux; host A (198.18.0.1, 2001:2::1) is behind it. Nic 2
/// (02:00:00:00:01:02, 198.18.1.2/24, 2001:2:0:1::2/64, MTU 1400 so that larger packets need fragmenting or an ICMP
/// error) has host B and a gateway to 198.19.0.0/16 and 2001:2:100::/48. Every neighbour is static, so no frame can
/// change where the fast path sends; 198.18.1.77 and 2001:2:0:1::77 stay unresolved.
/// </remarks>
internal sealed class FuzzRouter
{
    public static readonly NicId Nic1 = new(1);
    public static readonly NicId Nic2 = new(2);
    public static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:00:02");
    public static readonly MacAddress Mac2 = MacAddress.Parse("02:00:00:00:01:02");
    public static readonly MacAddress HostAMac = MacAddress.Parse("02:00:00:00:00:01");
    public static readonly MacAddress HostBMac = MacAddress.Parse("02:00:00:00:01:0a");
    public static readonly MacAddress GatewayMac = MacAddress.Parse("02:00:00:00:01:fe");
    public static readonly Ipv4Address Ip1 = Ipv4Address.Parse("198.18.0.2");
    public static readonly Ipv4Address Ip2 = Ipv4Address.Parse("198.18.1.2");
    public static readonly Ipv4Address HostA = Ipv4Address.Parse("198.18.0.1");
    public static readonly Ipv4Address HostB = Ipv4Address.Parse("198.18.1.10");
    public static readonly Ipv4Address Gateway = Ipv4Address.Parse("198.18.1.254");
    public static readonly Ipv4Address BeyondGateway = Ipv4Address.Parse("198.19.7.7");
    public static readonly Ipv6Address Ip6A = Ipv6Address.Parse("2001:2::2");
    public static readonly Ipv6Address Ip6B = Ipv6Address.Parse("2001:2:0:1::2");
    public static readonly Ipv6Address Host6A = Ipv6Address.Parse("2001:2::1");
    public static readonly Ipv6Address Host6B = Ipv6Address.Parse("2001:2:0:1::10");
    public static readonly Ipv6Address Gateway6 = Ipv6Address.Parse("fe80::fe");
    public static readonly Ipv6Address BeyondGateway6 = Ipv6Address.Parse("2001:2:100::7");

    public FuzzRouter()
    {
        Stack = new NetworkStack(new StackOptions
        {
            Clock = Clock,
            WallClock = new FixedWallClock(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero)),
            AcceptSourceRoute = true,
        });
        Link1 = new ChannelEndpoint(Mac1, outboundCapacity: 256);
        Link2 = new ChannelEndpoint(Mac2, mtu: 1400, outboundCapacity: 256);
        Must(Stack.CreateNic(Nic1, Link1, "eth1"));
        Must(Stack.CreateNic(Nic2, Link2, "eth2"));
        Must(Stack.AddAddress(Nic1, Ip1, 24));
        Must(Stack.AddAddress(Nic2, Ip2, 24));
        Must(Stack.AddAddress(Nic1, Ip6A, 64));
        Must(Stack.AddAddress(Nic2, Ip6B, 64));
        Must(Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1)));
        Must(Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.1.0/24"), Ipv4Address.Any, 2)));
        Must(Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.19.0.0/16"), Gateway, 2)));
        Must(Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2::/64"), Ipv6Address.Any, 1)));
        Must(Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:1::/64"), Ipv6Address.Any, 2)));
        Must(Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:100::/48"), Gateway6, 2)));
        Stack.Ipv4Forwarder = new Ipv4Forwarder();
        Stack.Ipv6Forwarder = new Ipv6Forwarder();
        foreach (NicId nic in new[] { Nic1, Nic2 })
        {
            Must(Stack.SetForwarding(nic, EtherType.Ipv4, true, out _));
            Must(Stack.SetForwarding(nic, EtherType.Ipv6, true, out _));
        }
        Udp = UdpProtocol.Install(Stack);
        Must(Udp.AddService(UdpServiceKind.Echo, 7));
        Must(Udp.AddService(UdpServiceKind.Discard, 9));
        Tcp = TcpProtocol.Install(Stack);
        Must(Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Must(Tcp.AddService(new TcpService(TcpServiceKind.Discard, 9)));
        Must(Tcp.AddService(new TcpService(TcpServiceKind.Http, 80)));
        AddNeighbors();
        Clock.Advance(TimeSpan.FromSeconds(1));
        Link1.Clear();
        Link2.Clear();
    }

    public NetworkStack Stack { get; }

    public ManualClock Clock { get; } = new();

    public ChannelEndpoint Link1 { get; }

    public ChannelEndpoint Link2 { get; }

    public UdpProtocol Udp { get; }

    public TcpProtocol Tcp { get; }

    public ChannelEndpoint Link(NicId nic) => nic == Nic1 ? Link1 : Link2;

    /// <summary>
    /// Brings the stack back near where it started: an hour passes, so every timer an earlier input left runs out
    /// (reassembly, neighbour probes, ICMP rate-limit buckets), TCP connections an earlier input opened are dropped
    /// (an idle established one would otherwise live on), the neighbour caches go back to the static entries, and
    /// whatever was sent is thrown away.
    /// </summary>
    public void Reset()
    {
        Clock.Advance(TimeSpan.FromHours(1));
        foreach (TcpConnection connection in Tcp.ConnectionsOf(0))
            connection.Release();
        foreach (Nic nic in Stack.Nics.Values)
        {
            nic.Neighbors.Clear();
            nic.Ipv6Neighbors.Clear();
        }
        AddNeighbors();
        Link1.Clear();
        Link2.Clear();
    }

    private void AddNeighbors()
    {
        Nic nic1 = Stack.Nics[Nic1], nic2 = Stack.Nics[Nic2];
        nic1.Neighbors.AddStatic(HostA, HostAMac);
        nic1.Ipv6Neighbors.AddStatic(Host6A, HostAMac);
        nic2.Neighbors.AddStatic(HostB, HostBMac);
        nic2.Neighbors.AddStatic(Gateway, GatewayMac);
        nic2.Ipv6Neighbors.AddStatic(Host6B, HostBMac);
        nic2.Ipv6Neighbors.AddStatic(Gateway6, GatewayMac);
    }

    private static void Must(StackError error)
    {
        if (error != StackError.None)
            throw new InvalidOperationException($"fuzz router set-up: {error}");
    }
}
