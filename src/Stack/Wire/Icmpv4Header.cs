using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>The parsed form of an ICMPv4 header: type, code, checksum and the type-specific second word (RFC 792).</summary>
/// <remarks>
/// <see cref="Emit"/> writes <see cref="Checksum"/> as it is (a round trip gives the same octets);
/// <see cref="EmitWithChecksum"/> computes it over a message whose data is already in place.
/// </remarks>
public readonly record struct Icmpv4Header(Icmpv4Type Type, byte Code, uint RestOfHeader, ushort Checksum = 0)
{
    /// <summary>Always 8.</summary>
    public int HeaderLength => Icmpv4Packet.HeaderLength;

    public ushort Identifier => (ushort)(RestOfHeader >> 16);

    public ushort SequenceNumber => (ushort)RestOfHeader;

    /// <summary>An echo request or reply header.</summary>
    public static Icmpv4Header Echo(Icmpv4Type type, ushort identifier, ushort sequenceNumber) =>
        new(type, 0, ((uint)identifier << 16) | sequenceNumber);

    /// <summary>The octets of header plus <paramref name="dataLength"/> octets of data.</summary>
    public int BufferLength(int dataLength) => Icmpv4Packet.HeaderLength + dataLength;

    /// <summary>Reads a checked message; fails when the checksum does not verify.</summary>
    public static bool TryParse(Icmpv4Packet packet, out Icmpv4Header header)
    {
        if (!packet.VerifyChecksum())
        {
            header = default;
            return false;
        }
        header = new Icmpv4Header(packet.Type, packet.Code, packet.RestOfHeader, packet.Checksum);
        return true;
    }

    /// <summary>Writes all 8 header octets, <see cref="Checksum"/> as given.</summary>
    public void Emit(Span<byte> destination)
    {
        Span<byte> header = destination[..Icmpv4Packet.HeaderLength];
        header[0] = (byte)Type;
        header[1] = Code;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], Checksum);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], RestOfHeader);
    }

    /// <summary>Writes the header into the first 8 octets of <paramref name="message"/> and the checksum over all of it (the data must already be in place).</summary>
    public void EmitWithChecksum(Span<byte> message)
    {
        (this with { Checksum = 0 }).Emit(message);
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], Wire.Checksum.Compute(message));
    }
}
