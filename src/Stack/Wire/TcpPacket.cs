using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// TCP header (RFC 9293 §3.1):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Acknowledgment Number                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data |     |A|C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrv|E|W|C|R|C|S|S|Y|I|            Window             |
// |       |     | |R|E|G|K|H|T|N|N|                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Checksum            |         Urgent Pointer        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                           [Options]                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                             data                              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Data Offset counts 32-bit words. The checksum covers a pseudo-header and the whole segment.

/// <summary>A view over a TCP segment (RFC 9293 §3.1).</summary>
/// <remarks>
/// TCP has no length field: create the view over exactly the IP payload (<see cref="Ipv4Packet.Payload"/>
/// or the upper-layer part of an IPv6 packet), and <see cref="Payload"/> is the rest of that span.
/// <see cref="TryCreate"/> checks that the data offset is at least 5 and that the buffer holds the whole
/// header; after it succeeds no accessor reads out of bounds. Read the options with <see cref="TcpOptionReader"/>.
/// </remarks>
public readonly ref struct TcpPacket
{
    /// <summary>The length of a header without options.</summary>
    public const int MinHeaderLength = 20;

    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int SequenceOffset = 4;
    private const int AcknowledgmentOffset = 8;
    private const int DataOffsetOffset = 12;
    private const int FlagsOffset = 13;
    private const int WindowOffset = 14;
    private const int ChecksumOffset = 16;
    private const int UrgentOffset = 18;

    private readonly Span<byte> _buffer;

    private TcpPacket(Span<byte> buffer) => _buffer = buffer;

    public static bool TryCreate(Span<byte> buffer, out TcpPacket packet, out WireError error)
    {
        packet = default;
        if (buffer.Length < MinHeaderLength)
        {
            error = WireError.Truncated;
            return false;
        }
        int headerLength = (buffer[DataOffsetOffset] >> 4) * 4;
        if (headerLength < MinHeaderLength)
        {
            error = WireError.BadHeaderLength;
            return false;
        }
        if (buffer.Length < headerLength)
        {
            error = WireError.Truncated;
            return false;
        }
        packet = new TcpPacket(buffer);
        error = WireError.None;
        return true;
    }

    /// <summary>The whole segment.</summary>
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

    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(_buffer[SequenceOffset..]);

    public uint AcknowledgmentNumber => BinaryPrimitives.ReadUInt32BigEndian(_buffer[AcknowledgmentOffset..]);

    /// <summary>The header length in octets (data offset × 4), options included.</summary>
    public int HeaderLength => (_buffer[DataOffsetOffset] >> 4) * 4;

    public TcpFlags Flags => (TcpFlags)(((_buffer[DataOffsetOffset] & 1) << 8) | _buffer[FlagsOffset]);

    public ushort WindowSize => BinaryPrimitives.ReadUInt16BigEndian(_buffer[WindowOffset..]);

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[ChecksumOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[ChecksumOffset..], value);
    }

    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_buffer[UrgentOffset..]);

    /// <summary>The options area (empty when the data offset is 5).</summary>
    public Span<byte> Options => _buffer[MinHeaderLength..HeaderLength];

    /// <summary>Everything after the header.</summary>
    public Span<byte> Payload => _buffer[HeaderLength..];

    /// <summary>True when the checksum verifies with the IPv4 pseudo-header.</summary>
    public bool VerifyChecksum(Ipv4Address source, Ipv4Address destination) =>
        VerifyChecksum(PseudoHeader.Sum(source, destination, IpProtocol.Tcp, _buffer.Length));

    /// <summary>True when the checksum verifies with the IPv6 pseudo-header.</summary>
    public bool VerifyChecksum(Ipv6Address source, Ipv6Address destination) =>
        VerifyChecksum(PseudoHeader.Sum(source, destination, IpProtocol.Tcp, _buffer.Length));

    /// <summary>True when the sum of the pseudo-header and the segment is all ones.</summary>
    public bool VerifyChecksum(uint pseudoHeaderSum) => Wire.Checksum.Finish(Wire.Checksum.Sum(_buffer, pseudoHeaderSum)) == 0;
}
