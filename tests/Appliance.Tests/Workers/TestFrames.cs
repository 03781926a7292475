using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Tests.Workers;

/// <summary>Builds real Ethernet frames with valid checksums, as a Linux host would send them.</summary>
internal static class TestFrames
{
    public static readonly byte[] HostMac = [0x02, 0x00, 0x5E, 0x10, 0x00, 0x01];
    public static readonly byte[] ReflectorMac = [0x02, 0x00, 0x5E, 0x10, 0x00, 0x02];
    public static readonly byte[] HostIpv4 = [198, 18, 0, 1];
    public static readonly byte[] ReflectorIpv4 = [198, 18, 0, 2];
    public static readonly byte[] HostIpv6 = [0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    public static readonly byte[] ReflectorIpv6 = [0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    public const ushort HostPort = 40000;
    public const ushort ReflectorPort = 9;

    public static byte[] Ethernet(ushort etherType, ReadOnlySpan<byte> payload, params ushort[] vlanTags)
    {
        var frame = new byte[14 + 4 * vlanTags.Length + payload.Length];
        ReflectorMac.CopyTo(frame, 0);
        HostMac.CopyTo(frame, 6);
        int offset = 12;
        foreach (ushort tpid in vlanTags)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset + 2), 100); // VLAN id 100
            offset += 4;
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), etherType);
        payload.CopyTo(frame.AsSpan(offset + 2));
        return frame;
    }

    public static byte[] Ipv4(byte protocol, ReadOnlySpan<byte> transport, ushort fragment = 0, int optionWords = 0)
    {
        int headerLength = 20 + 4 * optionWords;
        var packet = new byte[headerLength + transport.Length];
        packet[0] = (byte)(0x40 | (headerLength / 4));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 0x1234);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), fragment);
        packet[8] = 64;
        packet[9] = protocol;
        HostIpv4.CopyTo(packet, 12);
        ReflectorIpv4.CopyTo(packet, 16);
        for (int i = 20; i < headerLength; i++)
            packet[i] = 1; // NOP options
        transport.CopyTo(packet.AsSpan(headerLength));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Checksum.Compute(packet.AsSpan(0, headerLength)));
        if (fragment == 0 && protocol is 6 or 17)
            WriteTransportChecksum(packet.AsSpan(headerLength), protocol,
                Checksum.PseudoHeaderSum(HostIpv4, ReflectorIpv4, protocol, (ushort)transport.Length));
        return packet;
    }

    public static byte[] Ipv6(byte nextHeader, ReadOnlySpan<byte> transport)
    {
        var packet = new byte[40 + transport.Length];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)transport.Length);
        packet[6] = nextHeader;
        packet[7] = 64;
        HostIpv6.CopyTo(packet, 8);
        ReflectorIpv6.CopyTo(packet, 24);
        transport.CopyTo(packet.AsSpan(40));
        if (nextHeader is 6 or 17)
            WriteTransportChecksum(packet.AsSpan(40), nextHeader,
                Checksum.PseudoHeaderSumV6(HostIpv6, ReflectorIpv6, nextHeader, (uint)transport.Length));
        return packet;
    }

    public static byte[] Udp(int payloadLength)
    {
        var datagram = new byte[8 + payloadLength];
        BinaryPrimitives.WriteUInt16BigEndian(datagram, HostPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), ReflectorPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(4), (ushort)datagram.Length);
        for (int i = 8; i < datagram.Length; i++)
            datagram[i] = (byte)(i * 7);
        return datagram;
    }

    public static byte[] Tcp(int payloadLength)
    {
        var segment = new byte[20 + payloadLength];
        BinaryPrimitives.WriteUInt16BigEndian(segment, HostPort);
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), ReflectorPort);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(4), 1000);
        segment[12] = 5 << 4;
        segment[13] = 0x02; // SYN
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(14), 64240);
        for (int i = 20; i < segment.Length; i++)
            segment[i] = (byte)(i * 3);
        return segment;
    }

    public static byte[] Arp()
    {
        var arp = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(2), 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(6), 1);
        HostMac.CopyTo(arp, 8);
        HostIpv4.CopyTo(arp, 14);
        ReflectorIpv4.CopyTo(arp, 24);
        return arp;
    }

    /// <summary>True when the transport checksum over the packet's current addresses verifies.</summary>
    public static bool TransportChecksumValid(ReadOnlySpan<byte> transport, uint pseudoHeaderSum) =>
        Checksum.Finish(Checksum.Sum(transport, pseudoHeaderSum)) == 0;

    private static void WriteTransportChecksum(Span<byte> transport, byte protocol, uint pseudo)
    {
        int at = protocol == 17 ? 6 : 16;
        transport[at] = 0;
        transport[at + 1] = 0;
        ushort sum = Checksum.Finish(Checksum.Sum(transport, pseudo));
        BinaryPrimitives.WriteUInt16BigEndian(transport[at..], sum);
    }
}
