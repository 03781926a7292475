using System.Buffers.Binary;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>A router with hosts behind nic 1 and four paths out, nics 2 to 5, each with a resolved gateway, and one multipath route per family over all four: 198.19.0.0/16 and 2001:2:0:8000::/49.</summary>
/// <remarks>
/// Path p leaves by nic p + 2, on 198.18.(p + 2).0/24 and 2001:2:0:(p + 2)::/64, to gateway .254 or ::fe. The flow
/// hash seed is fixed, so runs repeat. With any seed, 1,000 flows put about 250 ± 14 (one standard deviation) on each
/// path, so a ±10% bound holds for most seeds but not all: it did for 13 of seeds 1 to 20 in both families, and for
/// this one with the most room (241 to 258). MultipathHashTests checks the hash's uniformity independently of the seed.
/// </remarks>
internal sealed class EcmpFixture
{
    public const int Paths = 4;
    public const ulong Seed = 1;

    public static readonly NicId Ingress = new(1);
    public static readonly MacAddress IngressMac = MacAddress.Parse("02:00:00:00:01:01");
    public static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:01:0a");
    public static readonly Ipv4Address Host4 = Ipv4Address.Parse("198.18.1.10");
    public static readonly Ipv6Address Host6 = Ipv6Address.Parse("2001:2:0:1::a");
    public static readonly Ipv4Prefix Multipath4 = new(Ipv4Address.Parse("198.19.0.0"), 16);
    public static readonly Ipv6Prefix Multipath6 = Ipv6Prefix.Parse("2001:2:0:8000::/49");
    public static readonly Ipv4Address Beyond4 = Ipv4Address.Parse("198.19.7.7");
    public static readonly Ipv6Address Beyond6 = Ipv6Address.Parse("2001:2:0:8001::7");

    private readonly ChannelEndpoint[] _links = new ChannelEndpoint[Paths + 2];

    /// <param name="policy">The flow hash's policy.</param>
    /// <param name="routes">Add the two multipath routes.</param>
    /// <param name="extraRoutes">Single-path routes to add (198.18.64.0/24 up, 2001:2:0:40::/64 up, spread over the paths), so that 16 or more make lookups use the LPMs.</param>
    /// <param name="seed">The flow hash's seed.</param>
    public EcmpFixture(MultipathHashPolicy policy = MultipathHashPolicy.Layer4, bool routes = true, int extraRoutes = 0, ulong seed = Seed)
    {
        Stack = new NetworkStack(new StackOptions { Clock = Clock, MultipathHashPolicy = policy, MultipathHashSeed = seed });
        for (int nic = 1; nic <= Paths + 1; nic++)
        {
            _links[nic] = new ChannelEndpoint(NicMac(nic));
            Assert.Equal(StackError.None, Stack.CreateNic(new NicId(nic), _links[nic], $"eth{nic}"));
            Assert.Equal(StackError.None, Stack.AddAddress(new NicId(nic), Ipv4Address.Parse($"198.18.{nic}.1"), 24));
            Assert.Equal(StackError.None, Stack.AddAddress(new NicId(nic), Ipv6Address.Parse($"2001:2:0:{nic}::1"), 64));
            Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse($"198.18.{nic}.0"), 24), Ipv4Address.Any, nic)));
            Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse($"2001:2:0:{nic}::/64"), Ipv6Address.Any, nic)));
        }
        Stack.Ipv4Forwarder = new Ipv4Forwarder();
        Stack.Ipv6Forwarder = new Ipv6Forwarder();
        for (int nic = 1; nic <= Paths + 1; nic++)
        {
            Assert.Equal(StackError.None, Stack.SetForwarding(new NicId(nic), EtherType.Ipv4, true, out _));
            Assert.Equal(StackError.None, Stack.SetForwarding(new NicId(nic), EtherType.Ipv6, true, out _));
        }
        Stack.Nics[Ingress].Neighbors.AddStatic(Host4, HostMac);
        Stack.Nics[Ingress].Ipv6Neighbors.AddStatic(Host6, HostMac);
        for (int p = 0; p < Paths; p++)
        {
            Stack.Nics[PathNic(p)].Neighbors.AddStatic(Gateway4(p), GatewayMac(p));
            Stack.Nics[PathNic(p)].Ipv6Neighbors.AddStatic(Gateway6(p), GatewayMac(p));
            if (routes)
            {
                Assert.Equal(StackError.None, Stack.AddRoute(Route4(p)));
                Assert.Equal(StackError.None, Stack.AddRoute(Route6(p)));
            }
        }
        for (int i = 0; i < extraRoutes; i++)
        {
            Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse($"198.18.{64 + i}.0"), 24), Gateway4(i % Paths), PathNic(i % Paths).Value)));
            Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse($"2001:2:0:{64 + i:x}::/64"), Gateway6(i % Paths), PathNic(i % Paths).Value)));
        }
        foreach (ChannelEndpoint link in _links.Skip(1))
            link.Clear();
    }

    public NetworkStack Stack { get; }

    public ManualClock Clock { get; } = new();

    public ChannelEndpoint Link(int nic) => _links[nic];

    public static NicId PathNic(int path) => new(path + 2);

    public static MacAddress NicMac(int nic) => MacAddress.Parse($"02:00:00:00:0{nic}:01");

    public static MacAddress GatewayMac(int path) => MacAddress.Parse($"02:00:00:00:0{path + 2}:fe");

    public static Ipv4Address Gateway4(int path) => Ipv4Address.Parse($"198.18.{path + 2}.254");

    public static Ipv6Address Gateway6(int path) => Ipv6Address.Parse($"2001:2:0:{path + 2}::fe");

    public static Ipv4Route Route4(int path, int weight = 1) => new(Multipath4, Gateway4(path), path + 2, Weight: weight);

    public static Ipv6Route Route6(int path, int weight = 1) => new(Multipath6, Gateway6(path), path + 2, Weight: weight);

    /// <summary>Hands <paramref name="frame"/> to the full stack on nic 1 and returns the path (0..3) of the one frame that left, with its bytes; -1 when nothing left by a path.</summary>
    public (int Path, byte[]? Output) Forward(byte[] frame)
    {
        // Whatever a NIC sent on its own (DAD and solicitations after it is enabled) is no answer to this frame.
        foreach (ChannelEndpoint link in _links.Skip(1))
            link.Clear();
        _links[Ingress.Value].InjectInbound(frame);
        int path = -1;
        byte[]? output = null;
        for (int p = 0; p < Paths; p++)
        {
            List<byte[]> sent = _links[p + 2].ReadAll();
            Assert.True(sent.Count <= 1, $"{sent.Count} frames left by path {p}");
            if (sent.Count == 1)
            {
                Assert.Equal(-1, path);
                path = p;
                output = sent[0];
            }
        }
        _links[Ingress.Value].Clear();
        return (path, output);
    }

    /// <summary>An IPv4 packet from the host to <paramref name="destination"/> whose payload starts with the two ports (a UDP or TCP header as far as a router looks).</summary>
    public static byte[] Flow4(Ipv4Address destination, ushort sourcePort, ushort destinationPort = 443, byte protocol = 17,
        ushort flagsFragment = 0, ushort id = 1, int payloadLength = 24, Ipv4Address? source = null, byte ttl = 64)
    {
        byte[] payload = Payload(sourcePort, destinationPort, payloadLength);
        return Packets.Ipv4(source ?? Host4, destination, protocol, payload, ttl: ttl, id: id, flagsFragment: flagsFragment, to: IngressMac, from: HostMac);
    }

    /// <summary>An IPv6 packet from the host to <paramref name="destination"/> whose payload starts with the two ports, with flow label <paramref name="flowLabel"/>.</summary>
    public static byte[] Flow6(Ipv6Address destination, ushort sourcePort, ushort destinationPort = 443, byte nextHeader = 17,
        uint flowLabel = 0, int payloadLength = 24, Ipv6Address? source = null, byte hopLimit = 64)
    {
        byte[] frame = Packets6.Ipv6(source ?? Host6, destination, nextHeader, Payload(sourcePort, destinationPort, payloadLength), hopLimit, to: IngressMac, from: HostMac);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(14), 0x6000_0000 | (flowLabel & 0xF_FFFF));
        return frame;
    }

    /// <summary>An IPv6 fragment from the host: a Fragment header (naming UDP) at <paramref name="offset"/> octets, then <paramref name="data"/>.</summary>
    public static byte[] Fragment6(Ipv6Address destination, int offset, bool more, uint identification, byte[] data, uint flowLabel = 0)
    {
        byte[] frame = Packets6.Fragment(Host6, destination, 17, offset, more, identification, data);
        IngressMac.CopyTo(frame);
        HostMac.CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(14), 0x6000_0000 | (flowLabel & 0xF_FFFF));
        return frame;
    }

    /// <summary>Two ports, then patterned octets: <paramref name="length"/> octets in all (at least 4).</summary>
    public static byte[] Payload(ushort sourcePort, ushort destinationPort, int length)
    {
        byte[] payload = new byte[Math.Max(length, 4)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(2), destinationPort);
        for (int i = 4; i < payload.Length; i++)
            payload[i] = (byte)(i * 11);
        return payload;
    }
}
