using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// The extension headers the walker understands (RFC 8200 §4.3-§4.6, RFC 4302 §2):
//
// Hop-by-Hop and Destination Options (§4.3, §4.6); length in 8-octet units, not counting the first 8:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |  Hdr Ext Len  |          Options ...          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Routing (§4.4):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |  Hdr Ext Len  |  Routing Type | Segments Left |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    type-specific data ...                     |
//
// Fragment (§4.5), always 8 octets:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Identification                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Authentication Header (RFC 4302 §2.2): like the options headers, but its length counts
// 4-octet units minus 2.

/// <summary>One extension header found by <see cref="Ipv6ExtensionHeaderReader"/>: its type, where it is and its octets.</summary>
/// <remarks>The reader has checked that <see cref="Bytes"/> holds the whole header, so every accessor here is in bounds.</remarks>
public readonly ref struct Ipv6ExtensionHeader
{
    private readonly Span<byte> _bytes;

    internal Ipv6ExtensionHeader(IpProtocol type, int offset, Span<byte> bytes)
    {
        Type = type;
        Offset = offset;
        _bytes = bytes;
    }

    /// <summary>Which extension header this is.</summary>
    public IpProtocol Type { get; }

    /// <summary>Where it starts, counted from the start of the IPv6 fixed header.</summary>
    public int Offset { get; }

    /// <summary>The whole header.</summary>
    public Span<byte> Bytes => _bytes;

    public int Length => _bytes.Length;

    /// <summary>The type of the header after this one.</summary>
    public IpProtocol NextHeader => (IpProtocol)_bytes[0];

    /// <summary>The options of a Hop-by-Hop or Destination Options header (RFC 8200 §4.2), padding included.</summary>
    public Span<byte> Options => _bytes[2..];

    /// <summary>The routing type of a Routing header (4 is the Segment Routing Header, RFC 8754).</summary>
    public byte RoutingType => _bytes[2];

    /// <summary>The segments left of a Routing header.</summary>
    public byte SegmentsLeft => _bytes[3];

    /// <summary>The fragment offset of a Fragment header, in octets (the field × 8).</summary>
    public int FragmentOffset => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]) & 0xFFF8;

    /// <summary>The M flag of a Fragment header.</summary>
    public bool MoreFragments => (_bytes[3] & 1) != 0;

    /// <summary>The identification of a Fragment header.</summary>
    public uint FragmentIdentification => BinaryPrimitives.ReadUInt32BigEndian(_bytes[4..]);
}
