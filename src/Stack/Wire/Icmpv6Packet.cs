using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// ICMPv6 message (RFC 4443 §2.1); the second word and what follows depend on the type:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Echo (§4.1): Identifier      |  Sequence Number              |
// |  Packet Too Big (§3.2): MTU                                   |
// |  Parameter Problem (§3.4): Pointer                            |
// |  Neighbor Advertisement (RFC 4861 §4.4): R|S|O| reserved      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  NS/NA/Redirect: Target Address (16 octets), then options      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The checksum covers an IPv6 pseudo-header (RFC 8200 §8.1) and the whole message.

/// <summary>A view over an ICMPv6 message (RFC 4443), with accessors for the NDP messages (RFC 4861 §4).</summary>
/// <remarks>
/// Create it over the upper-layer part of an IPv6 packet: the message runs to the end of the span.
/// <see cref="TryCreate"/> checks the 8-octet header and, for NDP messages, their fixed part
/// (<see cref="NdpFixedLength"/>), so <see cref="TargetAddress"/> and <see cref="NdpOptions"/> are in bounds.
/// </remarks>
public readonly ref struct Icmpv6Packet
{
    /// <summary>Type, code, checksum and the 4-octet rest of header.</summary>
    public const int HeaderLength = 8;

    private const int TypeOffset = 0;
    private const int CodeOffset = 1;
    private const int ChecksumOffset = 2;
    private const int RestOffset = 4;
    private const int TargetOffset = 8;

    private readonly Span<byte> _buffer;

    private Icmpv6Packet(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Checks the header length and the fixed part of NDP messages.</summary>
    public static bool TryCreate(Span<byte> buffer, out Icmpv6Packet packet, out WireError error)
    {
        packet = default;
        if (buffer.Length < HeaderLength || buffer.Length < NdpFixedLength((Icmpv6Type)buffer[TypeOffset]))
        {
            error = WireError.Truncated;
            return false;
        }
        packet = new Icmpv6Packet(buffer);
        error = WireError.None;
        return true;
    }

    /// <summary>The octets before the options of an NDP message (RFC 4861 §4.1-§4.5), or 8 for other types.</summary>
    public static int NdpFixedLength(Icmpv6Type type) => type switch
    {
        Icmpv6Type.RouterSolicitation => 8,
        Icmpv6Type.RouterAdvertisement => 16,
        Icmpv6Type.NeighborSolicitation or Icmpv6Type.NeighborAdvertisement => 24,
        Icmpv6Type.Redirect => 40,
        _ => HeaderLength,
    };

    /// <summary>The whole message.</summary>
    public Span<byte> Buffer => _buffer;

    public Icmpv6Type Type
    {
        get => (Icmpv6Type)_buffer[TypeOffset];
        set => _buffer[TypeOffset] = (byte)value;
    }

    public byte Code
    {
        get => _buffer[CodeOffset];
        set => _buffer[CodeOffset] = value;
    }

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[ChecksumOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[ChecksumOffset..], value);
    }

    /// <summary>The second 32-bit word: MTU, pointer, echo identifier and sequence, or NA flags.</summary>
    public uint RestOfHeader
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[RestOffset..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_buffer[RestOffset..], value);
    }

    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_buffer[RestOffset..]);

    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_buffer[(RestOffset + 2)..]);

    /// <summary>The MTU of a Packet Too Big message.</summary>
    public uint Mtu => RestOfHeader;

    /// <summary>The Router flag of a Neighbor Advertisement.</summary>
    public bool RouterFlag => (_buffer[RestOffset] & 0x80) != 0;

    /// <summary>The Solicited flag of a Neighbor Advertisement.</summary>
    public bool SolicitedFlag => (_buffer[RestOffset] & 0x40) != 0;

    /// <summary>The Override flag of a Neighbor Advertisement.</summary>
    public bool OverrideFlag => (_buffer[RestOffset] & 0x20) != 0;

    /// <summary>The target of a Neighbor Solicitation, Neighbor Advertisement or Redirect; the unspecified address for other types.</summary>
    public Ipv6Address TargetAddress
    {
        get => HasTarget ? new Ipv6Address(_buffer[TargetOffset..]) : default;
        set
        {
            if (HasTarget)
                value.CopyTo(_buffer[TargetOffset..]);
        }
    }

    /// <summary>The options of an NDP message (read them with <see cref="NdpOptionReader"/>); empty for other types.</summary>
    public Span<byte> NdpOptions => IsNdp ? _buffer[NdpFixedLength(Type)..] : [];

    /// <summary>Everything after the 8-octet header.</summary>
    public Span<byte> Data => _buffer[HeaderLength..];

    private bool HasTarget => Type is Icmpv6Type.NeighborSolicitation or Icmpv6Type.NeighborAdvertisement or Icmpv6Type.Redirect;

    private bool IsNdp => Type is >= Icmpv6Type.RouterSolicitation and <= Icmpv6Type.Redirect;

    /// <summary>True when the checksum verifies against the pseudo-header of <paramref name="source"/> and <paramref name="destination"/>.</summary>
    public bool VerifyChecksum(Ipv6Address source, Ipv6Address destination) =>
        VerifyChecksum(PseudoHeader.Sum(source, destination, IpProtocol.Icmpv6, _buffer.Length));

    /// <summary>True when the checksum verifies given the pseudo-header partial sum.</summary>
    public bool VerifyChecksum(uint pseudoHeaderSum) => Wire.Checksum.Finish(Wire.Checksum.Sum(_buffer, pseudoHeaderSum)) == 0;

    /// <summary>Computes and stores the checksum over the pseudo-header and the whole message.</summary>
    public void FillChecksum(Ipv6Address source, Ipv6Address destination)
    {
        Checksum = 0;
        Checksum = Wire.Checksum.Finish(Wire.Checksum.Sum(_buffer, PseudoHeader.Sum(source, destination, IpProtocol.Icmpv6, _buffer.Length)));
    }
}
