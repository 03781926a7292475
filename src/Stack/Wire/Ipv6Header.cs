using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>The parsed form of the IPv6 fixed header (RFC 8200 §3).</summary>
/// <remarks><see cref="PayloadLength"/> counts every octet after the fixed header, extension headers included.</remarks>
public readonly record struct Ipv6Header(
    Ipv6Address Source,
    Ipv6Address Destination,
    IpProtocol NextHeader,
    byte HopLimit,
    int PayloadLength)
{
    public byte TrafficClass { get; init; }

    /// <summary>The 20-bit flow label.</summary>
    public uint FlowLabel { get; init; }

    /// <summary>Always 40.</summary>
    public int HeaderLength => Ipv6Packet.HeaderLength;

    /// <summary>Header plus payload.</summary>
    public int BufferLength => Ipv6Packet.HeaderLength + PayloadLength;

    /// <summary>Reads a checked packet; always succeeds, as <see cref="Ipv6Packet.TryCreate"/> checked everything the fixed header has.</summary>
    public static bool TryParse(Ipv6Packet packet, out Ipv6Header header)
    {
        header = new Ipv6Header(packet.Source, packet.Destination, packet.NextHeader, packet.HopLimit, packet.PayloadLength)
        {
            TrafficClass = packet.TrafficClass,
            FlowLabel = packet.FlowLabel,
        };
        return true;
    }

    /// <summary>Writes all 40 octets.</summary>
    public void Emit(Span<byte> destination)
    {
        Span<byte> header = destination[..Ipv6Packet.HeaderLength];
        BinaryPrimitives.WriteUInt32BigEndian(header, (6u << 28) | ((uint)TrafficClass << 20) | (FlowLabel & 0x000F_FFFF));
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], checked((ushort)PayloadLength));
        header[6] = (byte)NextHeader;
        header[7] = HopLimit;
        Source.CopyTo(header[8..]);
        Destination.CopyTo(header[24..]);
    }
}
