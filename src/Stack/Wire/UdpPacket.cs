using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// UDP header (RFC 768):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Length             |           Checksum            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          data ...                             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Length counts header and data. A zero checksum means "none" over IPv4 (RFC 768) and is
// invalid over IPv6 (RFC 8200 §8.1); a computed zero is sent as 0xFFFF.

/// <summary>A view over a UDP datagram (RFC 768).</summary>
/// <remarks>
/// <see cref="TryCreate"/> checks that the length field is at least 8 and that the buffer holds that many
/// octets; after it succeeds no accessor reads out of bounds, and <see cref="Payload"/> ends at the UDP
/// length, not at the end of the buffer.
/// </remarks>
public readonly ref struct UdpPacket
{
    public const int HeaderLength = 8;

    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int LengthOffset = 4;
    private const int ChecksumOffset = 6;

    private readonly Span<byte> _buffer;

    private UdpPacket(Span<byte> buffer) => _buffer = buffer;

    public static bool TryCreate(Span<byte> buffer, out UdpPacket packet, out WireError error)
    {
        packet = default;
        if (buffer.Length < HeaderLength)
        {
            error = WireError.Truncated;
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(buffer[LengthOffset..]);
        if (length < HeaderLength)
        {
            error = WireError.BadLength;
            return false;
        }
        if (buffer.Length < length)
        {
            error = WireError.Truncated;
            return false;
        }
        packet = new UdpPacket(buffer);
        error = WireError.None;
        return true;
    }

    /// <summary>The buffer the view was created over.</summary>
    public Span<byte> Buffer => _buffer;

    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[SourcePortOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[SourcePortOffset..], value);
    }

    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[DestinationPortOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[DestinationPortOffset..], value);
    }

    /// <summary>Header plus data, in octets.</summary>
    public int Length => BinaryPrimitives.ReadUInt16BigEndian(_buffer[LengthOffset..]);

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[ChecksumOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[ChecksumOffset..], value);
    }

    /// <summary>The header and data, as far as the length field says.</summary>
    public Span<byte> Datagram => _buffer[..Length];

    /// <summary>The data, up to the length field.</summary>
    public Span<byte> Payload => _buffer[HeaderLength..Length];

    /// <summary>True when the checksum verifies over IPv4, or is zero ("no checksum", RFC 768).</summary>
    public bool VerifyChecksum(Ipv4Address source, Ipv4Address destination) =>
        Checksum == 0 || VerifyChecksum(PseudoHeader.Sum(source, destination, IpProtocol.Udp, Length));

    /// <summary>True when the checksum verifies over IPv6; zero is invalid there (RFC 8200 §8.1).</summary>
    public bool VerifyChecksum(Ipv6Address source, Ipv6Address destination) =>
        Checksum != 0 && VerifyChecksum(PseudoHeader.Sum(source, destination, IpProtocol.Udp, Length));

    /// <summary>True when the sum of the pseudo-header and the datagram is all ones.</summary>
    public bool VerifyChecksum(uint pseudoHeaderSum) => Wire.Checksum.Finish(Wire.Checksum.Sum(Datagram, pseudoHeaderSum)) == 0;
}
