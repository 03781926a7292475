using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// ARP for Ethernet and IPv4 (RFC 826 "Packet format"; sizes fixed by htype 1 and ptype 0x0800):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      Hardware type (1)        |    Protocol type (0x0800)     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | HW len (6)    | Proto len (4) |          Operation            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Sender hardware address (6 octets)                   |
// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               | Sender protocol address (4)   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// |                               |                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// |          Target hardware address (6 octets)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Target protocol address (4)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>A view over an ARP packet for Ethernet and IPv4, the only kind the stack speaks.</summary>
/// <remarks>After <see cref="TryCreate"/> succeeds no accessor reads out of bounds; octets past the 28 (Ethernet padding) are ignored.</remarks>
public readonly ref struct ArpPacket
{
    /// <summary>The length of an Ethernet/IPv4 ARP packet.</summary>
    public const int Length = 28;

    /// <summary>Hardware type 1, Ethernet (IANA "Hardware Types").</summary>
    public const ushort HardwareTypeEthernet = 1;

    private const int HardwareTypeOffset = 0;
    private const int ProtocolTypeOffset = 2;
    private const int HardwareLengthOffset = 4;
    private const int ProtocolLengthOffset = 5;
    private const int OperationOffset = 6;
    private const int SenderHardwareOffset = 8;
    private const int SenderProtocolOffset = 14;
    private const int TargetHardwareOffset = 18;
    private const int TargetProtocolOffset = 24;

    private readonly Span<byte> _buffer;

    private ArpPacket(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Checks the length and that the packet maps IPv4 addresses to 6-octet Ethernet addresses.</summary>
    public static bool TryCreate(Span<byte> buffer, out ArpPacket packet, out WireError error)
    {
        packet = default;
        if (buffer.Length < Length)
        {
            error = WireError.Truncated;
            return false;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(buffer[HardwareTypeOffset..]) != HardwareTypeEthernet
            || BinaryPrimitives.ReadUInt16BigEndian(buffer[ProtocolTypeOffset..]) != (ushort)EtherType.Ipv4
            || buffer[HardwareLengthOffset] != MacAddress.Length
            || buffer[ProtocolLengthOffset] != Ipv4Address.Length)
        {
            error = WireError.UnsupportedArpFormat;
            return false;
        }
        packet = new ArpPacket(buffer);
        error = WireError.None;
        return true;
    }

    /// <summary>The buffer the view was created over (padding included).</summary>
    public Span<byte> Buffer => _buffer;

    public ArpOperation Operation
    {
        get => (ArpOperation)BinaryPrimitives.ReadUInt16BigEndian(_buffer[OperationOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[OperationOffset..], (ushort)value);
    }

    public MacAddress SenderHardwareAddress
    {
        get => new(_buffer[SenderHardwareOffset..]);
        set => value.CopyTo(_buffer[SenderHardwareOffset..]);
    }

    public Ipv4Address SenderProtocolAddress
    {
        get => Ipv4Address.Read(_buffer[SenderProtocolOffset..]);
        set => value.CopyTo(_buffer[SenderProtocolOffset..]);
    }

    public MacAddress TargetHardwareAddress
    {
        get => new(_buffer[TargetHardwareOffset..]);
        set => value.CopyTo(_buffer[TargetHardwareOffset..]);
    }

    public Ipv4Address TargetProtocolAddress
    {
        get => Ipv4Address.Read(_buffer[TargetProtocolOffset..]);
        set => value.CopyTo(_buffer[TargetProtocolOffset..]);
    }
}
