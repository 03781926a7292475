using System.Buffers.Binary;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>A stack routing IPv6 between two channel NICs: nic 1 on 2001:2:0:1::/64 (host A), nic 2 on 2001:2:0:2::/64 (host B, and a link-local gateway to 2001:2:0:8000::/49).</summary>
internal sealed class Ipv6FastPathFixture
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
    public static readonly Ipv6Address HostB = Ipv6Address.Parse("2001:2:0:2::b");
    public static readonly Ipv6Address Gateway = Ipv6Address.Parse("fe80::fe");
    public static readonly Ipv6Address BeyondGateway = Ipv6Address.Parse("2001:2:0:8001::5");
    public static readonly Ipv6Prefix GatewayPrefix = Ipv6Prefix.Parse("2001:2:0:8000::/49");

    public Ipv6FastPathFixture(int mtu2 = 1500, bool forwarding = true, bool resolveHostB = true)
    {
        Stack = new NetworkStack(new StackOptions { Clock = Clock });
        Link1 = new ChannelEndpoint(Mac1);
        Link2 = new ChannelEndpoint(Mac2, mtu: mtu2);
        Assert.Equal(StackError.None, Stack.CreateNic(Nic1, Link1, "eth1"));
        Assert.Equal(StackError.None, Stack.CreateNic(Nic2, Link2, "eth2"));
        Assert.Equal(StackError.None, Stack.AddAddress(Nic1, Ip1, 64));
        Assert.Equal(StackError.None, Stack.AddAddress(Nic2, Ip2, 64));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:1::/64"), Ipv6Address.Any, 1)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:2::/64"), Ipv6Address.Any, 2)));
        Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(GatewayPrefix, Gateway, 2)));
        Stack.Ipv6Forwarder = new Ipv6Forwarder();
        Assert.Equal(StackError.None, Stack.SetForwarding(Nic1, EtherType.Ipv6, forwarding, out _));
        Assert.Equal(StackError.None, Stack.SetForwarding(Nic2, EtherType.Ipv6, forwarding, out _));
        Router1.Ipv6Neighbors.AddStatic(HostA, HostAMac);
        Router2.Ipv6Neighbors.AddStatic(Gateway, GatewayMac);
        if (resolveHostB)
            Router2.Ipv6Neighbors.AddStatic(HostB, HostBMac);
        Link1.Clear();
        Link2.Clear();
    }

    public NetworkStack Stack { get; }

    public ManualClock Clock { get; } = new();

    public ChannelEndpoint Link1 { get; }

    public ChannelEndpoint Link2 { get; }

    public Nic Router1 => Stack.Nics[Nic1];

    public Nic Router2 => Stack.Nics[Nic2];

    /// <summary>A UDP packet from host A (or <paramref name="source"/>), sent to the router's MAC on link 1.</summary>
    public static byte[] FromA(Ipv6Address destination, byte hopLimit = 64, int payloadLength = 32, Ipv6Address? source = null, byte nextHeader = 17)
    {
        byte[] udp = new byte[8 + payloadLength];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 12345);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), 53);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        for (int i = 8; i < udp.Length; i++)
            udp[i] = (byte)(i * 7);
        Ipv6Address from = source ?? HostA;
        if (nextHeader == 17)
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), Packets6.Checksum6(from, destination, 17, udp));
        return Packets6.Ipv6(from, destination, nextHeader, udp, hopLimit, to: Mac1, from: HostAMac);
    }

    /// <summary>A UDP packet from host A (or <paramref name="source"/>) behind a Hop-by-Hop Options header holding one PadN option.</summary>
    public static byte[] FromAWithHopByHop(Ipv6Address destination, byte hopLimit = 64, Ipv6Address? source = null, int payloadLength = 16)
    {
        Ipv6Address from = source ?? HostA;
        byte[] payload = new byte[8 + 8 + payloadLength];
        payload[0] = 17;    // next header after the options
        payload[1] = 0;     // 8 bytes in all
        payload[2] = 1;     // PadN
        payload[3] = 4;
        Span<byte> udp = payload.AsSpan(8);
        BinaryPrimitives.WriteUInt16BigEndian(udp, 12345);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 53);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udp.Length);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], Packets6.Checksum6(from, destination, 17, udp));
        return Packets6.Ipv6(from, destination, 0, payload, hopLimit, to: Mac1, from: HostAMac);
    }
}
