using System.Buffers.Binary;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Raw;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.WorkerPath;

/// <summary>A stack with every part a worker can reach: two NICs routing IPv4 and IPv6 (full stack and both fast paths), UDP endpoints of both families, a raw endpoint, and neighbours learned or static.</summary>
/// <remarks>
/// Nic 1 ("eth1", <see cref="Packets.StackMac"/>) holds 198.18.1.1/24 and 2001:2:0:1::1/64 with host A
/// (<see cref="Packets.HostMac"/>) behind it; nic 2 holds 198.18.2.1/24 and 2001:2:0:2::1/64 with host B, static in
/// both neighbour caches. Host A is learned from an ARP request and a Neighbor Solicitation (Stale), as a real peer
/// would be. UDP port 7 is bound on nic 1's addresses; port 9 is not.
/// </remarks>
internal sealed class WorkerPathFixture
{
    public static readonly NicId Nic1 = new(1);
    public static readonly NicId Nic2 = new(2);
    public static readonly MacAddress Mac2 = MacAddress.Parse("02:00:00:00:02:01");
    public static readonly MacAddress HostBMac = MacAddress.Parse("02:00:00:00:02:0a");
    public static readonly Ipv4Address Ip1 = Ipv4Address.Parse("198.18.1.1");
    public static readonly Ipv4Address HostA = Ipv4Address.Parse("198.18.1.10");
    public static readonly Ipv4Address HostB = Ipv4Address.Parse("198.18.2.10");
    public static readonly Ipv6Address Ip6 = Ipv6Address.Parse("2001:2:0:1::1");
    public static readonly Ipv6Address HostA6 = Ipv6Address.Parse("2001:2:0:1::a");
    public static readonly Ipv6Address HostB6 = Ipv6Address.Parse("2001:2:0:2::b");
    public const ushort BoundPort = 7;
    public const ushort UnboundPort = 9;

    public XdpStack.Stack.Transport.Tcp.TcpProtocol Tcp { get; }

    public WorkerPathFixture()
    {
        // No per-destination ICMP limit: every path below sends its errors to host A, and the counts must stay exact
        // (IcmpPeerLimiter is on the scanned path all the same, and has tests of its own).
        Stack = new NetworkStack(new StackOptions { Clock = Clock, IcmpPeerInterval = TimeSpan.Zero, Icmpv6PeerInterval = TimeSpan.Zero });
        Link1 = new ChannelEndpoint(Packets.StackMac);
        Link2 = new ChannelEndpoint(Mac2);
        Assert.Equal(StackError.None, Stack.CreateNic(Nic1, Link1, "eth1"));
        Assert.Equal(StackError.None, Stack.CreateNic(Nic2, Link2, "eth2"));
        Assert.Equal(StackError.None, Stack.AddAddress(Nic1, Ip1, 24));
        Assert.Equal(StackError.None, Stack.AddAddress(Nic2, Ipv4Address.Parse("198.18.2.1"), 24));
        Assert.Equal(StackError.None, Stack.AddAddress(Nic1, Ip6, 64));
        Assert.Equal(StackError.None, Stack.AddAddress(Nic2, Ipv6Address.Parse("2001:2:0:2::1"), 64));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.1.0/24"), Ipv4Address.Any, 1)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.2.0/24"), Ipv4Address.Any, 2)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:1::/64"), Ipv6Address.Any, 1)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:2::/64"), Ipv6Address.Any, 2)));
        Stack.Ipv4Forwarder = new Ipv4Forwarder();
        Stack.Ipv6Forwarder = new Ipv6Forwarder();
        foreach (NicId nic in (NicId[])[Nic1, Nic2])
        {
            Assert.Equal(StackError.None, Stack.SetForwarding(nic, EtherType.Ipv4, true, out _));
            Assert.Equal(StackError.None, Stack.SetForwarding(nic, EtherType.Ipv6, true, out _));
        }
        Stack.Nics[Nic2].Neighbors.AddStatic(HostB, HostBMac);
        Stack.Nics[Nic2].Ipv6Neighbors.AddStatic(HostB6, HostBMac);

        Udp = UdpProtocol.Install(Stack);
        Udp4 = Udp.CreateEndpoint();
        Udp6 = Udp.CreateEndpoint();
        Assert.Equal(StackError.None, Udp4.Bind(Ip1, BoundPort));
        Assert.Equal(StackError.None, Udp6.Bind(Ip6, BoundPort));
        Raw = Stack.Raw.Open(IpProtocol.Udp);
        Tcp = XdpStack.Stack.Transport.Tcp.TcpProtocol.Install(Stack);
        Assert.Equal(StackError.None, Tcp.AddService(new XdpStack.Stack.Transport.Tcp.Services.TcpService(XdpStack.Stack.Transport.Tcp.Services.TcpServiceKind.Http, 80)));

        Fast4 = new Ipv4FastForwarder(Stack);
        Fast6 = new Ipv6FastForwarder(Stack);

        // Host A asks for us once in each family: the caches learn it (Stale) the way they would from a real peer.
        Link1.InjectInbound(Packets.ArpRequest(HostA, Packets.HostMac, Ip1));
        Link1.InjectInbound(Packets6.Solicitation(HostA6, Ip6, Packets.HostMac));
        Assert.Equal(NeighborState.Stale, Info(Stack.Nics[Nic1].Neighbors, HostA));
        Assert.Equal(NeighborState.Stale, Info(Stack.Nics[Nic1].Ipv6Neighbors, HostA6));

        // A socket listener with one accepted connection, idle and ESTABLISHED (no timer armed), so the sockets' wake-up
        // semaphores are among the stack's locks.
        Assert.Equal(StackError.None, Tcp.ListenSockets(SocketPort, null, out XdpStack.Stack.Transport.Tcp.TcpSocketListener? sockets));
        SocketListener = sockets!;
        Link1.Clear();
        Link1.InjectInbound(TcpFromHostA(XdpStack.Stack.Wire.TcpFlags.Syn, 1000, 0));
        byte[] synAck = Assert.Single(Link1.ReadAll());
        Assert.True(Ipv4Packet.TryCreate(synAck.AsSpan(14), out Ipv4Packet synAckIp, out _));
        Assert.True(XdpStack.Stack.Wire.TcpPacket.TryCreate(synAckIp.Payload, out XdpStack.Stack.Wire.TcpPacket synAckTcp, out _));
        Link1.InjectInbound(TcpFromHostA(XdpStack.Stack.Wire.TcpFlags.Ack, 1001, synAckTcp.SequenceNumber + 1));
        Assert.Single(Tcp.ConnectionsOf(0), c => c.LocalPort == SocketPort && c.State == XdpStack.Stack.Transport.Tcp.TcpState.Established);

        // Publish the fast paths' snapshots now rather than on the manual clock.
        Fast4.Refresh();
        Fast6.Refresh();
        Link1.Clear();
        Link2.Clear();
    }

    /// <summary>The port of <see cref="SocketListener"/>.</summary>
    public const ushort SocketPort = 81;

    /// <summary>A socket listener holding one accepted connection from host A.</summary>
    public XdpStack.Stack.Transport.Tcp.TcpSocketListener SocketListener { get; }

    public ManualClock Clock { get; } = new();

    private static byte[] TcpFromHostA(XdpStack.Stack.Wire.TcpFlags flags, uint sequence, uint acknowledgment)
    {
        var header = new XdpStack.Stack.Wire.TcpHeader(40001, SocketPort, sequence, acknowledgment, flags, 65535);
        byte[] segment = new byte[header.HeaderLength];
        header.EmitWithChecksum(segment, HostA, Ip1);
        return Packets.Ipv4(HostA, Ip1, (byte)IpProtocol.Tcp, segment);
    }

    public NetworkStack Stack { get; }

    public ChannelEndpoint Link1 { get; }

    public ChannelEndpoint Link2 { get; }

    public UdpProtocol Udp { get; }

    public UdpEndpoint Udp4 { get; }

    public UdpEndpoint Udp6 { get; }

    public RawEndpoint Raw { get; }

    public Ipv4FastForwarder Fast4 { get; }

    public Ipv6FastForwarder Fast6 { get; }

    public long this[NicId nic, StatCounter counter] => Stack.Nics[nic].Stats[counter];

    /// <summary>A UDP datagram from host A to <paramref name="destination"/>:<paramref name="port"/> (checksum left 0), for nic 1.</summary>
    public static byte[] Udp4From(Ipv4Address destination, ushort port, byte ttl = 64) =>
        Packets.Ipv4(HostA, destination, 17, UdpSegment(port, 16, checksum: null), ttl: ttl);

    /// <summary>A UDP datagram from host A to <paramref name="destination"/>:<paramref name="port"/> with its IPv6 checksum, for nic 1.</summary>
    public static byte[] Udp6From(Ipv6Address destination, ushort port, byte hopLimit = 64) =>
        Packets6.Ipv6(HostA6, destination, 17, UdpSegment(port, 16, checksum: (HostA6, destination)), hopLimit);

    private static byte[] UdpSegment(ushort port, int payloadLength, (Ipv6Address Source, Ipv6Address Destination)? checksum)
    {
        byte[] udp = new byte[8 + payloadLength];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), port);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        for (int i = 8; i < udp.Length; i++)
            udp[i] = (byte)i;
        if (checksum is { } c)
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), Packets6.Checksum6(c.Source, c.Destination, 17, udp));
        return udp;
    }

    private static NeighborState Info<TAddress>(NeighborCache<TAddress> cache, TAddress address)
        where TAddress : struct, IEquatable<TAddress>
    {
        Assert.True(cache.TryGetInfo(address, out NeighborInfo<TAddress> info));
        return info.State;
    }
}
