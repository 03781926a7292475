using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>The parsed form of an IPv4 header, without options (RFC 791 §3.1).</summary>
/// <remarks>
/// Options are not carried: <see cref="TryParse"/> accepts a packet with options and
/// <see cref="Emit"/> always writes a 20-octet header, as smoltcp's <c>Ipv4Repr</c> does. A router
/// rewrites the original header in place through <see cref="Ipv4Packet"/> and keeps them.
/// </remarks>
public readonly record struct Ipv4Header(
    Ipv4Address Source,
    Ipv4Address Destination,
    IpProtocol Protocol,
    byte TimeToLive,
    int PayloadLength)
{
    /// <summary>The DSCP and ECN octet.</summary>
    public byte TypeOfService { get; init; }

    public ushort Identification { get; init; }

    public bool DontFragment { get; init; }

    public bool MoreFragments { get; init; }

    /// <summary>The fragment offset in octets; a multiple of 8.</summary>
    public int FragmentOffset { get; init; }

    /// <summary>Always 20: options are not emitted.</summary>
    public int HeaderLength => Ipv4Packet.MinHeaderLength;

    /// <summary>Header plus payload: the total length field.</summary>
    public int BufferLength => Ipv4Packet.MinHeaderLength + PayloadLength;

    /// <summary>Reads a checked packet; fails when the header checksum does not verify.</summary>
    public static bool TryParse(Ipv4Packet packet, out Ipv4Header header)
    {
        if (!packet.VerifyChecksum())
        {
            header = default;
            return false;
        }
        header = new Ipv4Header(packet.Source, packet.Destination, packet.Protocol, packet.TimeToLive, packet.Payload.Length)
        {
            TypeOfService = packet.TypeOfService,
            Identification = packet.Identification,
            DontFragment = packet.DontFragment,
            MoreFragments = packet.MoreFragments,
            FragmentOffset = packet.FragmentOffset,
        };
        return true;
    }

    /// <summary>Writes all 20 header octets, the checksum included; the payload is the caller's.</summary>
    public void Emit(Span<byte> destination)
    {
        Span<byte> header = destination[..Ipv4Packet.MinHeaderLength];
        header[0] = 0x45;
        header[1] = TypeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], checked((ushort)BufferLength));
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], Identification);
        int flags = (DontFragment ? 0x4000 : 0) | (MoreFragments ? 0x2000 : 0) | ((FragmentOffset >> 3) & 0x1FFF);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], (ushort)flags);
        header[8] = TimeToLive;
        header[9] = (byte)Protocol;
        header[10] = 0;
        header[11] = 0;
        Source.CopyTo(header[12..]);
        Destination.CopyTo(header[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], Checksum.Compute(header));
    }
}
