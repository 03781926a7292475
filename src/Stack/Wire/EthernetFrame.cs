using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Wire;

// Ethernet II (IEEE 802.3 §3.1.1, RFC 894), with at most one IEEE 802.1Q tag (IEEE 802.1Q §9.6):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Destination MAC (6 octets)                    |
// +                               +-------------------------------+
// |                               |                               |
// +-------------------------------+                               +
// |                   Source MAC (6 octets)                       |
// +-------------------------------+-------------------------------+
// |     EtherType or TPID         |  PCP|D|  VLAN id  (if tagged) |
// +-------------------------------+-------------------------------+
// |  inner EtherType (if tagged)  |  payload ...
// +-------------------------------+
//
// The frame check sequence is not part of what AF_XDP or a pcap hands over, so the view has none.

/// <summary>A view over an Ethernet II frame, with at most one 802.1Q tag.</summary>
/// <remarks>
/// After <see cref="TryCreate"/> succeeds no accessor reads out of bounds. Ethernet carries no
/// length, so <see cref="Payload"/> runs to the end of the buffer and includes any padding to the
/// 60-octet minimum; the IP layer trims it by its own length field. Only TPID 0x8100 counts as a tag:
/// an 802.1ad (QinQ) frame shows up as <see cref="EtherType.QinQ"/>, which the stack does not handle.
/// </remarks>
public readonly ref struct EthernetFrame
{
    /// <summary>Length of an untagged header.</summary>
    public const int UntaggedHeaderLength = 14;

    /// <summary>Length of the 802.1Q tag (TPID and TCI).</summary>
    public const int VlanTagLength = 4;

    private const int DestinationOffset = 0;
    private const int SourceOffset = 6;
    private const int TypeOffset = 12;
    private const int TagControlOffset = 14;
    private const int InnerTypeOffset = 16;

    private readonly Span<byte> _buffer;

    private EthernetFrame(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Checks that <paramref name="buffer"/> holds the whole header (and the tag, if the EtherType says there is one).</summary>
    public static bool TryCreate(Span<byte> buffer, out EthernetFrame frame, out WireError error)
    {
        frame = default;
        if (buffer.Length < UntaggedHeaderLength)
        {
            error = WireError.Truncated;
            return false;
        }
        if (IsTagType(BinaryPrimitives.ReadUInt16BigEndian(buffer[TypeOffset..])) && buffer.Length < UntaggedHeaderLength + VlanTagLength)
        {
            error = WireError.Truncated;
            return false;
        }
        frame = new EthernetFrame(buffer);
        error = WireError.None;
        return true;
    }

    /// <summary>The whole frame.</summary>
    public Span<byte> Buffer => _buffer;

    public MacAddress Destination
    {
        get => new(_buffer[DestinationOffset..]);
        set => value.CopyTo(_buffer[DestinationOffset..]);
    }

    public MacAddress Source
    {
        get => new(_buffer[SourceOffset..]);
        set => value.CopyTo(_buffer[SourceOffset..]);
    }

    /// <summary>The outer EtherType: the TPID (<see cref="EtherType.Vlan"/>) for a tagged frame.</summary>
    public EtherType OuterEtherType => (EtherType)BinaryPrimitives.ReadUInt16BigEndian(_buffer[TypeOffset..]);

    /// <summary>True when the frame carries an 802.1Q tag.</summary>
    public bool HasVlanTag => IsTagType((ushort)OuterEtherType);

    /// <summary>The tag control information (PCP, DEI, VLAN id), or 0 for an untagged frame.</summary>
    public ushort TagControl => HasVlanTag ? BinaryPrimitives.ReadUInt16BigEndian(_buffer[TagControlOffset..]) : (ushort)0;

    /// <summary>The 12-bit VLAN id, or 0 for an untagged frame.</summary>
    public ushort VlanId => (ushort)(TagControl & 0x0FFF);

    /// <summary>The 3-bit priority code point (IEEE 802.1Q §6.9.3).</summary>
    public byte Priority => (byte)(TagControl >> 13);

    /// <summary>The drop-eligible indicator bit.</summary>
    public bool DropEligible => (TagControl & 0x1000) != 0;

    /// <summary>The type of the payload: the inner EtherType of a tagged frame, else the EtherType.</summary>
    public EtherType EtherType
    {
        get => (EtherType)BinaryPrimitives.ReadUInt16BigEndian(_buffer[(HasVlanTag ? InnerTypeOffset : TypeOffset)..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[(HasVlanTag ? InnerTypeOffset : TypeOffset)..], (ushort)value);
    }

    /// <summary>14, or 18 with a tag: the offset of the payload.</summary>
    public int HeaderLength => HasVlanTag ? UntaggedHeaderLength + VlanTagLength : UntaggedHeaderLength;

    /// <summary>Everything after the header, padding included.</summary>
    public Span<byte> Payload => _buffer[HeaderLength..];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsTagType(ushort type) => type == (ushort)EtherType.Vlan;
}
