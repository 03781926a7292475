using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>The parsed form of an Ethernet/IPv4 ARP packet (RFC 826).</summary>
public readonly record struct ArpHeader(
    ArpOperation Operation,
    MacAddress SenderHardwareAddress,
    Ipv4Address SenderProtocolAddress,
    MacAddress TargetHardwareAddress,
    Ipv4Address TargetProtocolAddress)
{
    /// <summary>Always 28.</summary>
    public int HeaderLength => ArpPacket.Length;

    /// <summary>The octets <see cref="Emit"/> writes.</summary>
    public int BufferLength => ArpPacket.Length;

    /// <summary>Reads a checked packet; fails for operations other than request and reply (RFC 5494 lists others the stack ignores).</summary>
    public static bool TryParse(ArpPacket packet, out ArpHeader header)
    {
        ArpOperation operation = packet.Operation;
        if (operation is not (ArpOperation.Request or ArpOperation.Reply))
        {
            header = default;
            return false;
        }
        header = new ArpHeader(operation, packet.SenderHardwareAddress, packet.SenderProtocolAddress,
            packet.TargetHardwareAddress, packet.TargetProtocolAddress);
        return true;
    }

    /// <summary>Writes all 28 octets.</summary>
    public void Emit(Span<byte> destination)
    {
        _ = destination[ArpPacket.Length - 1];
        BinaryPrimitives.WriteUInt16BigEndian(destination, ArpPacket.HardwareTypeEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)EtherType.Ipv4);
        destination[4] = MacAddress.Length;
        destination[5] = Ipv4Address.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], (ushort)Operation);
        SenderHardwareAddress.CopyTo(destination[8..]);
        SenderProtocolAddress.CopyTo(destination[14..]);
        TargetHardwareAddress.CopyTo(destination[18..]);
        TargetProtocolAddress.CopyTo(destination[24..]);
    }
}
