using System.Buffers.Binary;
using System.Globalization;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Capture;

/// <summary>One line per captured frame, in the manner of tcpdump's default output, for <c>xdpstack capture</c> without <c>-w</c>.</summary>
internal static class PacketSummary
{
    public static string Describe(Span<byte> frame)
    {
        if (!EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _))
            return Invariant($"truncated frame, length {frame.Length}");
        return ethernet.EtherType switch
        {
            EtherType.Ipv4 => Ipv4(ethernet.Payload, frame.Length),
            EtherType.Ipv6 => Ipv6(ethernet.Payload, frame.Length),
            EtherType.Arp => Arp(ethernet.Payload, frame.Length),
            EtherType type => Invariant($"{ethernet.Source} > {ethernet.Destination}, ethertype 0x{(ushort)type:x4}, length {frame.Length}"),
        };
    }

    private static string Ipv4(Span<byte> payload, int length)
    {
        if (!Ipv4Packet.TryCreate(payload, out Ipv4Packet ip, out _))
            return Invariant($"IP malformed, length {length}");
        string src = ip.Source.ToString(), dst = ip.Destination.ToString();
        if (ip.FragmentOffset != 0)
            return Invariant($"IP {src} > {dst}: fragment at offset {ip.FragmentOffset}, length {length}");
        return "IP " + Transport(ip.Protocol, ip.Payload, src, dst, length, IpProtocol.Icmp);
    }

    private static string Ipv6(Span<byte> payload, int length)
    {
        if (!Ipv6Packet.TryCreate(payload, out Ipv6Packet ip, out _))
            return Invariant($"IP6 malformed, length {length}");
        return "IP6 " + Transport(ip.NextHeader, ip.Payload, ip.Source.ToString(), ip.Destination.ToString(), length, IpProtocol.Icmpv6);
    }

    private static string Transport(IpProtocol protocol, Span<byte> l4, string src, string dst, int length, IpProtocol icmp)
    {
        if (protocol is IpProtocol.Udp or IpProtocol.Tcp && l4.Length >= 4)
        {
            ushort sport = BinaryPrimitives.ReadUInt16BigEndian(l4), dport = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
            return Invariant($"{src}.{sport} > {dst}.{dport}: {(protocol == IpProtocol.Udp ? "UDP" : "TCP")}, length {length}");
        }
        if (protocol == icmp && l4.Length >= 1)
            return Invariant($"{src} > {dst}: {IcmpName(icmp, l4[0])}, length {length}");
        return Invariant($"{src} > {dst}: ip-proto-{(byte)protocol}, length {length}");
    }

    private static string IcmpName(IpProtocol family, byte type) => (family, type) switch
    {
        (IpProtocol.Icmp, (byte)Icmpv4Type.EchoRequest) => "ICMP echo request",
        (IpProtocol.Icmp, (byte)Icmpv4Type.EchoReply) => "ICMP echo reply",
        (IpProtocol.Icmpv6, (byte)Icmpv6Type.EchoRequest) => "ICMP6 echo request",
        (IpProtocol.Icmpv6, (byte)Icmpv6Type.EchoReply) => "ICMP6 echo reply",
        (IpProtocol.Icmp, _) => Invariant($"ICMP type {type}"),
        _ => Invariant($"ICMP6 type {type}"),
    };

    private static string Arp(Span<byte> payload, int length)
    {
        if (!ArpPacket.TryCreate(payload, out ArpPacket arp, out _))
            return Invariant($"ARP malformed, length {length}");
        return arp.Operation switch
        {
            ArpOperation.Request => Invariant($"ARP, Request who-has {arp.TargetProtocolAddress} tell {arp.SenderProtocolAddress}, length {length}"),
            ArpOperation.Reply => Invariant($"ARP, Reply {arp.SenderProtocolAddress} is-at {arp.SenderHardwareAddress}, length {length}"),
            ArpOperation op => Invariant($"ARP, operation {(ushort)op}, length {length}"),
        };
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
