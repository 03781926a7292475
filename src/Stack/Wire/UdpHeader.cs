using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>The parsed form of a UDP header (RFC 768).</summary>
/// <remarks>
/// <see cref="Emit"/> writes <see cref="Checksum"/> as it is (a round trip gives the same octets);
/// the <c>EmitWithChecksum</c> overloads compute it with the IPv4 or IPv6 pseudo-header over a datagram
/// whose payload is already in place after the header.
/// </remarks>
public readonly record struct UdpHeader(ushort SourcePort, ushort DestinationPort, int PayloadLength, ushort Checksum = 0)
{
    /// <summary>Always 8.</summary>
    public int HeaderLength => UdpPacket.HeaderLength;

    /// <summary>Header plus payload: the length field.</summary>
    public int BufferLength => UdpPacket.HeaderLength + PayloadLength;

    /// <summary>Reads a checked datagram without verifying the checksum (that needs the addresses; see the other overloads).</summary>
    public static bool TryParse(UdpPacket packet, out UdpHeader header)
    {
        header = new UdpHeader(packet.SourcePort, packet.DestinationPort, packet.Length - UdpPacket.HeaderLength, packet.Checksum);
        return true;
    }

    /// <summary>Reads a checked datagram carried by IPv4; fails when the checksum does not verify.</summary>
    public static bool TryParse(UdpPacket packet, Ipv4Address source, Ipv4Address destination, out UdpHeader header)
    {
        if (!packet.VerifyChecksum(source, destination))
        {
            header = default;
            return false;
        }
        return TryParse(packet, out header);
    }

    /// <summary>Reads a checked datagram carried by IPv6; fails when the checksum does not verify.</summary>
    public static bool TryParse(UdpPacket packet, Ipv6Address source, Ipv6Address destination, out UdpHeader header)
    {
        if (!packet.VerifyChecksum(source, destination))
        {
            header = default;
            return false;
        }
        return TryParse(packet, out header);
    }

    /// <summary>Writes all 8 header octets, <see cref="Checksum"/> as given.</summary>
    public void Emit(Span<byte> destination)
    {
        Span<byte> header = destination[..UdpPacket.HeaderLength];
        BinaryPrimitives.WriteUInt16BigEndian(header, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], checked((ushort)BufferLength));
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], Checksum);
    }

    /// <summary>Writes the header at the start of <paramref name="datagram"/> and the checksum over the IPv4 pseudo-header and <see cref="BufferLength"/> octets.</summary>
    public void EmitWithChecksum(Span<byte> datagram, Ipv4Address source, Ipv4Address destination) =>
        EmitWithChecksum(datagram, PseudoHeader.Sum(source, destination, IpProtocol.Udp, BufferLength));

    /// <summary>Writes the header at the start of <paramref name="datagram"/> and the checksum over the IPv6 pseudo-header and <see cref="BufferLength"/> octets.</summary>
    public void EmitWithChecksum(Span<byte> datagram, Ipv6Address source, Ipv6Address destination) =>
        EmitWithChecksum(datagram, PseudoHeader.Sum(source, destination, IpProtocol.Udp, BufferLength));

    private void EmitWithChecksum(Span<byte> datagram, uint pseudoHeaderSum)
    {
        Span<byte> whole = datagram[..BufferLength];
        (this with { Checksum = 0 }).Emit(whole);
        ushort checksum = Wire.Checksum.Finish(Wire.Checksum.Sum(whole, pseudoHeaderSum));
        // RFC 768: a computed zero goes out as all ones, since zero means "no checksum".
        BinaryPrimitives.WriteUInt16BigEndian(whole[6..], checksum == 0 ? (ushort)0xFFFF : checksum);
    }
}
