using System.Buffers.Binary;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>A stack routing between two channel NICs: nic 1 on 198.18.1.0/24 (host A behind it), nic 2 on 198.18.2.0/24 (host B, and a gateway to 198.18.64.0/18).</summary>
internal sealed class RouterFixture : TwoNicRouterFixture
{
    public static readonly NicId Nic1 = new(1);
    public static readonly NicId Nic2 = new(2);
    public static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:01:01");
    public static readonly MacAddress Mac2 = MacAddress.Parse("02:00:00:00:02:01");
    public static readonly MacAddress HostAMac = MacAddress.Parse("02:00:00:00:01:0a");
    public static readonly MacAddress HostBMac = MacAddress.Parse("02:00:00:00:02:0a");
    public static readonly MacAddress GatewayMac = MacAddress.Parse("02:00:00:00:02:fe");
    public static readonly Ipv4Address Ip1 = Ipv4Address.Parse("198.18.1.1");
    public static readonly Ipv4Address Ip2 = Ipv4Address.Parse("198.18.2.1");
    public static readonly Ipv4Address HostA = Ipv4Address.Parse("198.18.1.10");
    public static readonly Ipv4Address HostB = Ipv4Address.Parse("198.18.2.10");
    public static readonly Ipv4Address Gateway = Ipv4Address.Parse("198.18.2.254");
    public static readonly Ipv4Address BeyondGateway = Ipv4Address.Parse("198.18.70.5");

    /// <summary>The wall-clock time of <see cref="WallClock"/>: 13:14:15.678 UTC, 47,655,678 ms after midnight.</summary>
    public static readonly DateTimeOffset WallTime = new(2026, 11, 25, 13, 14, 15, 678, TimeSpan.Zero);

    public RouterFixture(int mtu2 = 1500, bool forwarding = true, bool resolveHostB = true, bool acceptSourceRoute = false, bool sendRedirects = true, TimeProvider? wallClock = null, TimeSpan? icmpPeerInterval = null)
        : base(Mac1, Mac2, mtu2)
    {
        CreateStack(new StackOptions
        {
            Clock = Clock,
            WallClock = wallClock ?? WallClock,
            AcceptSourceRoute = acceptSourceRoute,
            SendRedirects = sendRedirects,
            IcmpPeerInterval = icmpPeerInterval ?? new StackOptions().IcmpPeerInterval,
            Icmpv6PeerInterval = icmpPeerInterval ?? new StackOptions().Icmpv6PeerInterval,
        });
        Assert.Equal(StackError.None, Stack.AddAddress(Nic1, Ip1, 24));
        Assert.Equal(StackError.None, Stack.AddAddress(Nic2, Ip2, 24));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.1.0"), 24), Ipv4Address.Any, 1)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.2.0"), 24), Ipv4Address.Any, 2)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.64.0"), 18), Gateway, 2)));
        Stack.Ipv4Forwarder = new Ipv4Forwarder();
        Assert.Equal(StackError.None, Stack.SetForwarding(Nic1, EtherType.Ipv4, forwarding, out _));
        Assert.Equal(StackError.None, Stack.SetForwarding(Nic2, EtherType.Ipv4, forwarding, out _));
        Stack.Nics[Nic2].Neighbors.AddStatic(Gateway, GatewayMac);
        if (resolveHostB)
            Stack.Nics[Nic2].Neighbors.AddStatic(HostB, HostBMac);
        Link1.Clear();
        Link2.Clear();
    }

    public FixedWallClock WallClock { get; } = new(WallTime);

    /// <summary>A UDP packet from host A, sent to the router's MAC on link 1.</summary>
    public static byte[] FromA(Ipv4Address destination, byte ttl = 64, int payloadLength = 32, ushort flags = 0, Ipv4Address? source = null)
    {
        return Packets.Ipv4(source ?? HostA, destination, 17, UdpDatagram(payloadLength), ttl: ttl, id: 0x4242, flagsFragment: flags, to: Mac1, from: HostAMac);
    }

    /// <summary>Like <see cref="FromA"/>, with <paramref name="options"/> (a multiple of 4 octets) after the fixed header and the header checksum summed again.</summary>
    public static byte[] FromAWithOptions(Ipv4Address destination, byte[] options, byte ttl = 64, int payloadLength = 32, ushort flags = 0, Ipv4Address? source = null)
    {
        Assert.Equal(0, options.Length % 4);
        byte[] plain = FromA(destination, ttl, payloadLength, flags, source);
        byte[] frame = new byte[plain.Length + options.Length];
        plain.AsSpan(0, 34).CopyTo(frame);
        options.CopyTo(frame, 34);
        plain.AsSpan(34).CopyTo(frame.AsSpan(34 + options.Length));
        frame[14] = (byte)(0x45 + options.Length / 4);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), (ushort)(frame.Length - 14));
        frame[24] = frame[25] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), Checksum.Compute(frame.AsSpan(14, 20 + options.Length)));
        return frame;
    }

    /// <summary>The four octets of <paramref name="address"/> in network order, for building options.</summary>
    public static byte[] Bytes(Ipv4Address address)
    {
        byte[] bytes = new byte[4];
        address.CopyTo(bytes);
        return bytes;
    }
}
