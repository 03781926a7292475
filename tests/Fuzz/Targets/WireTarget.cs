using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>What the wire-view targets share: a guarded buffer for the input, and seeds cut from the captures at one layer.</summary>
internal abstract class WireTarget : FuzzTarget
{
    protected GuardedBuffer Buffer { get; } = new(16 * 1024);

    /// <summary>Each captured frame's IPv4 or IPv6 packet (after the Ethernet header and any VLAN tag).</summary>
    protected static IEnumerable<byte[]> IpPackets(SeedSource source)
    {
        foreach (byte[] frame in source.Frames)
        {
            if (EthernetFrame.TryCreate((byte[])frame.Clone(), out EthernetFrame ethernet, out _)
                && ethernet.EtherType is EtherType.Ipv4 or EtherType.Ipv6)
                yield return ethernet.Payload.ToArray();
        }
    }

    /// <summary>The bytes of an IP packet after its headers, with its addresses, or the whole input with zero addresses when it is no IP packet.</summary>
    protected static Span<byte> UpperLayer(Span<byte> input, out bool ipv6, out Ipv4Address source4, out Ipv4Address destination4,
        out Ipv6Address source6, out Ipv6Address destination6, out IpProtocol protocol)
    {
        ipv6 = false;
        source4 = destination4 = default;
        source6 = destination6 = default;
        protocol = 0;
        if (Ipv4Packet.TryCreate(input, out Ipv4Packet ip4, out _))
        {
            source4 = ip4.Source;
            destination4 = ip4.Destination;
            protocol = ip4.Protocol;
            return ip4.Payload;
        }
        if (Ipv6Packet.TryCreate(input, out Ipv6Packet ip6, out _) && Ipv6ExtensionHeaderReader.TryWalk(ip6, out Ipv6ExtensionChain chain, out _))
        {
            ipv6 = true;
            source6 = ip6.Source;
            destination6 = ip6.Destination;
            protocol = chain.UpperLayerProtocol;
            return ip6.Packet[chain.UpperLayerOffset..];
        }
        return input;
    }

    protected static void Check(bool condition, string what) => FuzzCheckException.That(condition, what);
}
