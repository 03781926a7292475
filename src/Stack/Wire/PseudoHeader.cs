namespace XdpStack.Stack.Wire;

/// <summary>Pseudo-header partial sums (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1) from address values, for the upper-layer checksums.</summary>
/// <remarks>The sums come from <see cref="Checksum"/>, so they add to a <see cref="Checksum.Sum"/> over the upper-layer octets.</remarks>
public static class PseudoHeader
{
    /// <summary>The IPv4 pseudo-header sum: addresses, zero, protocol and upper-layer length.</summary>
    public static uint Sum(Ipv4Address source, Ipv4Address destination, IpProtocol protocol, int length)
    {
        Span<byte> addresses = stackalloc byte[2 * Ipv4Address.Length];
        source.CopyTo(addresses);
        destination.CopyTo(addresses[Ipv4Address.Length..]);
        return Checksum.PseudoHeaderSum(addresses[..Ipv4Address.Length], addresses[Ipv4Address.Length..], (byte)protocol, (ushort)length);
    }

    /// <summary>The IPv6 pseudo-header sum: addresses, upper-layer length and next header.</summary>
    public static uint Sum(Ipv6Address source, Ipv6Address destination, IpProtocol nextHeader, int length)
    {
        Span<byte> addresses = stackalloc byte[2 * Ipv6Address.Length];
        source.CopyTo(addresses);
        destination.CopyTo(addresses[Ipv6Address.Length..]);
        return Checksum.PseudoHeaderSumV6(addresses[..Ipv6Address.Length], addresses[Ipv6Address.Length..], (byte)nextHeader, (uint)length);
    }
}
