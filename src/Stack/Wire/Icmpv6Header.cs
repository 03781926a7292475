using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>The parsed form of an ICMPv6 header: type, code, checksum and the type-specific second word (RFC 4443 §2.1).</summary>
/// <remarks>
/// <see cref="Emit"/> writes <see cref="Checksum"/> as it is (a round trip gives the same octets);
/// <see cref="EmitWithChecksum"/> computes it, with the pseudo-header, over a message whose body is already in place.
/// </remarks>
public readonly record struct Icmpv6Header(Icmpv6Type Type, byte Code, uint RestOfHeader, ushort Checksum = 0)
{
    /// <summary>Always 8.</summary>
    public int HeaderLength => Icmpv6Packet.HeaderLength;

    public ushort Identifier => (ushort)(RestOfHeader >> 16);

    public ushort SequenceNumber => (ushort)RestOfHeader;

    /// <summary>An echo request or reply header.</summary>
    public static Icmpv6Header Echo(Icmpv6Type type, ushort identifier, ushort sequenceNumber) =>
        new(type, 0, ((uint)identifier << 16) | sequenceNumber);

    /// <summary>The octets of header plus <paramref name="bodyLength"/> octets after it.</summary>
    public int BufferLength(int bodyLength) => Icmpv6Packet.HeaderLength + bodyLength;

    /// <summary>Reads a checked message without verifying the checksum (that needs the addresses; see the other overload).</summary>
    public static bool TryParse(Icmpv6Packet packet, out Icmpv6Header header)
    {
        header = new Icmpv6Header(packet.Type, packet.Code, packet.RestOfHeader, packet.Checksum);
        return true;
    }

    /// <summary>Reads a checked message; fails when the checksum does not verify against the addresses.</summary>
    public static bool TryParse(Icmpv6Packet packet, Ipv6Address source, Ipv6Address destination, out Icmpv6Header header)
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
        Span<byte> header = destination[..Icmpv6Packet.HeaderLength];
        header[0] = (byte)Type;
        header[1] = Code;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], Checksum);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], RestOfHeader);
    }

    /// <summary>Writes the header into the first 8 octets of <paramref name="message"/> and the checksum over the pseudo-header and all of <paramref name="message"/>.</summary>
    public void EmitWithChecksum(Span<byte> message, Ipv6Address source, Ipv6Address destination)
    {
        (this with { Checksum = 0 }).Emit(message);
        uint pseudo = PseudoHeader.Sum(source, destination, IpProtocol.Icmpv6, message.Length);
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], Wire.Checksum.Finish(Wire.Checksum.Sum(message, pseudo)));
    }
}
