using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// ICMPv4 message (RFC 792); the second word depends on the type:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Echo: Identifier             |  Echo: Sequence Number        |
// |  Unreachable code 4: unused   |  Next-Hop MTU (RFC 1191 §4)   |
// |  Parameter Problem: Pointer   |  unused                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data: echo payload, or the offending IP header + 8 octets    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The checksum covers the whole message, with no pseudo-header.

/// <summary>A view over an ICMPv4 message (RFC 792).</summary>
/// <remarks>
/// Create it over the IPv4 payload (<see cref="Ipv4Packet.Payload"/>): the message runs to the end of the
/// span, as ICMP has no length of its own. After <see cref="TryCreate"/> no accessor reads out of bounds.
/// </remarks>
public readonly ref struct Icmpv4Packet
{
    /// <summary>Type, code, checksum and the 4-octet rest of header.</summary>
    public const int HeaderLength = 8;

    private const int TypeOffset = 0;
    private const int CodeOffset = 1;
    private const int ChecksumOffset = 2;
    private const int RestOffset = 4;

    private readonly Span<byte> _buffer;

    private Icmpv4Packet(Span<byte> buffer) => _buffer = buffer;

    public static bool TryCreate(Span<byte> buffer, out Icmpv4Packet packet, out WireError error)
    {
        packet = default;
        if (buffer.Length < HeaderLength)
        {
            error = WireError.Truncated;
            return false;
        }
        packet = new Icmpv4Packet(buffer);
        error = WireError.None;
        return true;
    }

    /// <summary>The whole message.</summary>
    public Span<byte> Buffer => _buffer;

    public Icmpv4Type Type
    {
        get => (Icmpv4Type)_buffer[TypeOffset];
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

    /// <summary>The second 32-bit word, whose meaning depends on the type.</summary>
    public uint RestOfHeader
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[RestOffset..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_buffer[RestOffset..], value);
    }

    /// <summary>The echo identifier (echo request and reply).</summary>
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_buffer[RestOffset..]);

    /// <summary>The echo sequence number (echo request and reply).</summary>
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_buffer[(RestOffset + 2)..]);

    /// <summary>The next-hop MTU of a "fragmentation needed" message (RFC 1191 §4).</summary>
    public ushort NextHopMtu => BinaryPrimitives.ReadUInt16BigEndian(_buffer[(RestOffset + 2)..]);

    /// <summary>The octet pointer of a parameter problem message.</summary>
    public byte Pointer => _buffer[RestOffset];

    /// <summary>Everything after the 8-octet header: echo data, or the invoking packet of an error.</summary>
    public Span<byte> Data => _buffer[HeaderLength..];

    /// <summary>True when the checksum over the whole message verifies.</summary>
    public bool VerifyChecksum() => Wire.Checksum.Compute(_buffer) == 0;

    /// <summary>Computes and stores the checksum over the whole message.</summary>
    public void FillChecksum()
    {
        Checksum = 0;
        Checksum = Wire.Checksum.Compute(_buffer);
    }
}
