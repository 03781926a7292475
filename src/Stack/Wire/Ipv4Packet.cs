using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// IPv4 header (RFC 791 §3.1):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |  DSCP     |ECN|          Total Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Identification        |Flags|      Fragment Offset    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Time to Live |    Protocol   |         Header Checksum       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Source Address                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination Address                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options                    |    Padding    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// DSCP/ECN replace the Type of Service octet (RFC 2474 §3, RFC 3168 §5). Flags are reserved,
// Don't Fragment, More Fragments; the offset counts 8-octet units.

/// <summary>A view over an IPv4 packet (RFC 791).</summary>
/// <remarks>
/// <see cref="TryCreate"/> checks the version, that IHL ≥ 5, that total length ≥ header length, and that
/// the buffer holds total-length octets; after it succeeds no accessor reads out of bounds.
/// <see cref="Payload"/> ends at the total length, so Ethernet padding past it is never payload. The view
/// has no setters for IHL or total length: changing those would void the check.
/// </remarks>
public readonly ref struct Ipv4Packet
{
    /// <summary>The length of a header without options.</summary>
    public const int MinHeaderLength = 20;

    private const int VersionIhlOffset = 0;
    private const int TosOffset = 1;
    private const int TotalLengthOffset = 2;
    private const int IdentificationOffset = 4;
    private const int FlagsFragmentOffset = 6;
    private const int TtlOffset = 8;
    private const int ProtocolOffset = 9;
    private const int ChecksumOffset = 10;
    private const int SourceOffset = 12;
    private const int DestinationOffset = 16;

    private const ushort DontFragmentBit = 0x4000;
    private const ushort MoreFragmentsBit = 0x2000;
    private const ushort FragmentOffsetMask = 0x1FFF;

    private readonly Span<byte> _buffer;

    private Ipv4Packet(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Validates the lengths once; the buffer may be longer than the packet (padding).</summary>
    public static bool TryCreate(Span<byte> buffer, out Ipv4Packet packet, out WireError error)
    {
        packet = default;
        if (buffer.Length < MinHeaderLength)
        {
            error = WireError.Truncated;
            return false;
        }
        if (buffer[VersionIhlOffset] >> 4 != 4)
        {
            error = WireError.BadVersion;
            return false;
        }
        int headerLength = (buffer[VersionIhlOffset] & 0xF) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(buffer[TotalLengthOffset..]);
        if (headerLength < MinHeaderLength)
        {
            error = WireError.BadHeaderLength;
            return false;
        }
        if (totalLength < headerLength)
        {
            error = WireError.BadTotalLength;
            return false;
        }
        if (buffer.Length < totalLength)
        {
            error = WireError.Truncated;
            return false;
        }
        packet = new Ipv4Packet(buffer);
        error = WireError.None;
        return true;
    }

    /// <summary>The buffer the view was created over, padding included.</summary>
    public Span<byte> Buffer => _buffer;

    public int Version => _buffer[VersionIhlOffset] >> 4;

    /// <summary>The header length in octets (IHL × 4), options included.</summary>
    public int HeaderLength => (_buffer[VersionIhlOffset] & 0xF) * 4;

    /// <summary>The former Type of Service octet: DSCP and ECN together.</summary>
    public byte TypeOfService => _buffer[TosOffset];

    public byte Dscp => (byte)(_buffer[TosOffset] >> 2);

    public byte Ecn => (byte)(_buffer[TosOffset] & 3);

    /// <summary>Header plus payload, in octets.</summary>
    public int TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_buffer[TotalLengthOffset..]);

    public ushort Identification
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[IdentificationOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[IdentificationOffset..], value);
    }

    public bool DontFragment => (FlagsAndOffset & DontFragmentBit) != 0;

    public bool MoreFragments => (FlagsAndOffset & MoreFragmentsBit) != 0;

    /// <summary>The fragment offset in octets (the field × 8).</summary>
    public int FragmentOffset => (FlagsAndOffset & FragmentOffsetMask) * 8;

    /// <summary>True for any fragment: More Fragments set or a non-zero offset.</summary>
    public bool IsFragment => (FlagsAndOffset & (MoreFragmentsBit | FragmentOffsetMask)) != 0;

    public byte TimeToLive
    {
        get => _buffer[TtlOffset];
        set => _buffer[TtlOffset] = value;
    }

    public IpProtocol Protocol => (IpProtocol)_buffer[ProtocolOffset];

    public ushort HeaderChecksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[ChecksumOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[ChecksumOffset..], value);
    }

    public Ipv4Address Source
    {
        get => Ipv4Address.Read(_buffer[SourceOffset..]);
        set => value.CopyTo(_buffer[SourceOffset..]);
    }

    public Ipv4Address Destination
    {
        get => Ipv4Address.Read(_buffer[DestinationOffset..]);
        set => value.CopyTo(_buffer[DestinationOffset..]);
    }

    /// <summary>The header, options included.</summary>
    public Span<byte> Header => _buffer[..HeaderLength];

    /// <summary>The options (empty when IHL is 5).</summary>
    public Span<byte> Options => _buffer[MinHeaderLength..HeaderLength];

    /// <summary>From the end of the header to the total length; never includes link-layer padding.</summary>
    public Span<byte> Payload => _buffer[HeaderLength..TotalLength];

    private ushort FlagsAndOffset => BinaryPrimitives.ReadUInt16BigEndian(_buffer[FlagsFragmentOffset..]);

    /// <summary>True when the header checksum verifies (RFC 791 §3.1: the one's-complement sum over the header is all ones).</summary>
    public bool VerifyChecksum() => Checksum.Compute(Header) == 0;

    /// <summary>Computes and stores the header checksum.</summary>
    public void FillChecksum()
    {
        HeaderChecksum = 0;
        HeaderChecksum = Checksum.Compute(Header);
    }

    /// <summary>
    /// Decrements the TTL and patches the checksum incrementally (RFC 1624 eqn. 3, as RFC 1812 §5.3.1 allows),
    /// so a router need not re-sum the header. Returns the new TTL; the caller checks for 0 before calling.
    /// </summary>
    public byte DecrementTimeToLive()
    {
        // TTL and protocol share one 16-bit word of the checksum.
        ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(_buffer[TtlOffset..]);
        byte ttl = (byte)(_buffer[TtlOffset] - 1);
        _buffer[TtlOffset] = ttl;
        HeaderChecksum = Checksum.Update(HeaderChecksum, oldWord, (ushort)(oldWord - 0x100));
        return ttl;
    }
}
