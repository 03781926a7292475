using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>Builds test frames byte by byte, independently of the stack's own code.</summary>
internal static class Packets
{
    public static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:00:01");
    public static readonly MacAddress StackMac = MacAddress.Parse("02:00:00:00:00:02");
    public static readonly Ipv4Address HostIp = Ipv4Address.Parse("198.18.0.1");
    public static readonly Ipv4Address StackIp = Ipv4Address.Parse("198.18.0.2");

    public static byte[] Ipv4(Ipv4Address source, Ipv4Address destination, byte protocol, ReadOnlySpan<byte> payload,
        byte ttl = 64, ushort id = 1, ushort flagsFragment = 0, MacAddress? to = null, MacAddress? from = null, int ihl = 5)
    {
        int headerLength = ihl * 4;
        byte[] frame = new byte[14 + headerLength + payload.Length];
        (to ?? StackMac).CopyTo(frame);
        (from ?? HostMac).CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        Span<byte> ip = frame.AsSpan(14);
        ip[0] = (byte)(0x40 | ihl);
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(headerLength + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], flagsFragment);
        ip[8] = ttl;
        ip[9] = protocol;
        source.CopyTo(ip[12..]);
        destination.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..headerLength]));
        payload.CopyTo(ip[headerLength..]);
        return frame;
    }

    public static byte[] Icmp(byte type, byte code, ReadOnlySpan<byte> rest)
    {
        byte[] icmp = new byte[4 + rest.Length];
        icmp[0] = type;
        icmp[1] = code;
        rest.CopyTo(icmp.AsSpan(4));
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Checksum.Compute(icmp));
        return icmp;
    }

    public static byte[] EchoRequest(Ipv4Address source, Ipv4Address destination, ushort id = 0x1234, ushort sequence = 1, int dataLength = 16, MacAddress? to = null)
    {
        byte[] rest = new byte[4 + dataLength];
        BinaryPrimitives.WriteUInt16BigEndian(rest, id);
        BinaryPrimitives.WriteUInt16BigEndian(rest.AsSpan(2), sequence);
        for (int i = 0; i < dataLength; i++)
            rest[4 + i] = (byte)i;
        return Ipv4(source, destination, 1, Icmp(8, 0, rest), to: to);
    }

    public static byte[] ArpRequest(Ipv4Address sender, MacAddress senderMac, Ipv4Address target)
    {
        byte[] frame = new byte[42];
        MacAddress.Broadcast.CopyTo(frame);
        senderMac.CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        WriteArp(frame.AsSpan(14), 1, senderMac, sender, MacAddress.Zero, target);
        return frame;
    }

    public static byte[] ArpReply(Ipv4Address sender, MacAddress senderMac, Ipv4Address target, MacAddress targetMac, MacAddress ethernetDestination)
    {
        byte[] frame = new byte[42];
        ethernetDestination.CopyTo(frame);
        senderMac.CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        WriteArp(frame.AsSpan(14), 2, senderMac, sender, targetMac, target);
        return frame;
    }

    public static Ipv4Address IpSource(byte[] frame) => Ipv4Address.Read(frame.AsSpan(26));

    public static Ipv4Address IpDestination(byte[] frame) => Ipv4Address.Read(frame.AsSpan(30));

    public static ushort EtherTypeOf(byte[] frame) => BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12));

    private static void WriteArp(Span<byte> arp, ushort op, MacAddress sha, Ipv4Address spa, MacAddress tha, Ipv4Address tpa)
    {
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], op);
        sha.CopyTo(arp[8..]);
        spa.CopyTo(arp[14..]);
        tha.CopyTo(arp[18..]);
        tpa.CopyTo(arp[24..]);
    }
}
