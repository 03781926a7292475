using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// IPv6 fixed header (RFC 8200 §3):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version| Traffic Class |           Flow Label                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Payload Length        |  Next Header  |   Hop Limit   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +                                                               +
// |                         Source Address                        |
// +                                                               +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +                                                               +
// |                      Destination Address                      |
// +                                                               +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>A view over an IPv6 packet's fixed header and payload (RFC 8200 §3).</summary>
/// <remarks>
/// <see cref="TryCreate"/> checks the version and that the buffer holds 40 + payload-length octets; after
/// it succeeds no accessor reads out of bounds. <see cref="Payload"/> ends at the payload length, so
/// Ethernet padding is never payload. Jumbograms (RFC 2675, payload length 0 plus a Hop-by-Hop option)
/// are not supported: a zero payload length means an empty payload. Extension headers are walked by
/// <see cref="Ipv6ExtensionHeaderReader"/>.
/// </remarks>
public readonly ref struct Ipv6Packet
{
    /// <summary>The length of the fixed header.</summary>
    public const int HeaderLength = 40;

    private const int VersionOffset = 0;
    private const int PayloadLengthOffset = 4;
    private const int NextHeaderOffset = 6;
    private const int HopLimitOffset = 7;
    private const int SourceOffset = 8;
    private const int DestinationOffset = 24;

    private readonly Span<byte> _buffer;

    private Ipv6Packet(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Validates the version and lengths once; the buffer may be longer than the packet (padding).</summary>
    public static bool TryCreate(Span<byte> buffer, out Ipv6Packet packet, out WireError error)
    {
        packet = default;
        if (buffer.Length < HeaderLength)
        {
            error = WireError.Truncated;
            return false;
        }
        if (buffer[VersionOffset] >> 4 != 6)
        {
            error = WireError.BadVersion;
            return false;
        }
        if (buffer.Length < HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(buffer[PayloadLengthOffset..]))
        {
            error = WireError.Truncated;
            return false;
        }
        packet = new Ipv6Packet(buffer);
        error = WireError.None;
        return true;
    }

    /// <summary>The buffer the view was created over, padding included.</summary>
    public Span<byte> Buffer => _buffer;

    public int Version => _buffer[VersionOffset] >> 4;

    public byte TrafficClass => (byte)(BinaryPrimitives.ReadUInt16BigEndian(_buffer) >> 4);

    /// <summary>The 20-bit flow label (RFC 6437).</summary>
    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(_buffer) & 0x000F_FFFF;

    /// <summary>The octets after the fixed header, extension headers included.</summary>
    public int PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(_buffer[PayloadLengthOffset..]);

    /// <summary>The type of the first header after the fixed one: an extension header or the upper layer.</summary>
    public IpProtocol NextHeader => (IpProtocol)_buffer[NextHeaderOffset];

    public byte HopLimit
    {
        get => _buffer[HopLimitOffset];
        set => _buffer[HopLimitOffset] = value;
    }

    public Ipv6Address Source
    {
        get => new(_buffer[SourceOffset..]);
        set => value.CopyTo(_buffer[SourceOffset..]);
    }

    public Ipv6Address Destination
    {
        get => new(_buffer[DestinationOffset..]);
        set => value.CopyTo(_buffer[DestinationOffset..]);
    }

    /// <summary>The fixed header and payload, without padding.</summary>
    public Span<byte> Packet => _buffer[..(HeaderLength + PayloadLength)];

    /// <summary>From the end of the fixed header to the payload length.</summary>
    public Span<byte> Payload => _buffer[HeaderLength..(HeaderLength + PayloadLength)];

    /// <summary>Decrements the hop limit (IPv6 has no header checksum to patch) and returns the new value.</summary>
    public byte DecrementHopLimit() => --_buffer[HopLimitOffset];
}
