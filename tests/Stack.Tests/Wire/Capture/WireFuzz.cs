using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire.Capture;

/// <summary>
/// Runs every view, walker and parser over arbitrary octets and reads every accessor of whatever
/// they accept. Span bounds checks throw on any out-of-bounds read, so "does not throw" is the check.
/// </summary>
internal static class WireFuzz
{
    /// <summary>Returns a value folded from everything read, so no read can be optimized away.</summary>
    public static long TouchEverything(Span<byte> bytes)
    {
        long acc = Ethernet(bytes);
        acc += Arp(bytes) + Ipv4(bytes) + Ipv6(bytes) + Icmpv4(bytes) + Icmpv6(bytes) + Udp(bytes) + Tcp(bytes);
        return acc;
    }

    private static long Ethernet(Span<byte> bytes)
    {
        if (!EthernetFrame.TryCreate(bytes, out EthernetFrame frame, out _))
            return 1;
        long acc = (long)frame.Destination.Value + (long)frame.Source.Value + (int)frame.OuterEtherType + frame.TagControl
            + frame.VlanId + frame.Priority + (frame.DropEligible ? 1 : 0) + frame.HeaderLength + frame.Payload.Length;
        EthernetHeader.TryParse(frame, out EthernetHeader header);
        Span<byte> scratch = stackalloc byte[64];
        header.Emit(scratch);
        return (int)frame.EtherType switch
        {
            (int)EtherType.Arp => acc + Arp(frame.Payload),
            (int)EtherType.Ipv4 => acc + Ipv4(frame.Payload),
            (int)EtherType.Ipv6 => acc + Ipv6(frame.Payload),
            _ => acc,
        };
    }

    private static long Arp(Span<byte> bytes)
    {
        if (!ArpPacket.TryCreate(bytes, out ArpPacket arp, out _))
            return 1;
        long acc = (int)arp.Operation + (long)arp.SenderHardwareAddress.Value + arp.SenderProtocolAddress.Value
            + (long)arp.TargetHardwareAddress.Value + arp.TargetProtocolAddress.Value;
        if (ArpHeader.TryParse(arp, out ArpHeader header))
        {
            Span<byte> scratch = stackalloc byte[64];
            header.Emit(scratch);
            acc += scratch[0];
        }
        return acc;
    }

    private static long Ipv4(Span<byte> bytes)
    {
        if (!Ipv4Packet.TryCreate(bytes, out Ipv4Packet ip, out _))
            return 1;
        long acc = ip.Version + ip.HeaderLength + ip.TypeOfService + ip.Dscp + ip.Ecn + ip.TotalLength + ip.Identification
            + (ip.DontFragment ? 1 : 0) + (ip.MoreFragments ? 1 : 0) + ip.FragmentOffset + (ip.IsFragment ? 1 : 0)
            + ip.TimeToLive + (int)ip.Protocol + ip.HeaderChecksum + ip.Source.Value + ip.Destination.Value
            + ip.Header.Length + ip.Options.Length + ip.Payload.Length + (ip.VerifyChecksum() ? 1 : 0);
        if (Ipv4Header.TryParse(ip, out Ipv4Header header))
        {
            Span<byte> scratch = stackalloc byte[64];
            header.Emit(scratch);
            acc += scratch[10];
        }
        return acc + Upper(ip.Protocol, ip.Payload, ip.Source, ip.Destination);
    }

    private static long Ipv6(Span<byte> bytes)
    {
        if (!Ipv6Packet.TryCreate(bytes, out Ipv6Packet ip, out _))
            return 1;
        long acc = ip.Version + ip.TrafficClass + ip.FlowLabel + ip.PayloadLength + (int)ip.NextHeader + ip.HopLimit
            + (long)ip.Source.Low + (long)ip.Destination.High + ip.Packet.Length + ip.Payload.Length;
        Ipv6Header.TryParse(ip, out Ipv6Header header);
        Span<byte> scratch = stackalloc byte[64];
        header.Emit(scratch);

        var reader = new Ipv6ExtensionHeaderReader(ip);
        while (reader.MoveNext())
        {
            Ipv6ExtensionHeader h = reader.Current;
            acc += (int)h.Type + h.Offset + h.Length + (int)h.NextHeader + h.Options.Length + h.RoutingType + h.SegmentsLeft
                + h.FragmentOffset + (h.MoreFragments ? 1 : 0) + h.FragmentIdentification + h.Bytes.Length;
        }
        acc += (int)reader.Error + reader.Count;
        if (Ipv6ExtensionHeaderReader.TryWalk(ip, out Ipv6ExtensionChain chain, out _))
        {
            Span<byte> upper = ip.Buffer.Slice(chain.UpperLayerOffset, chain.UpperLayerLength);
            acc += chain.FragmentHeaderOffset + chain.RoutingHeaderOffset;
            if (!chain.IsFragment || chain.FragmentOffset == 0)
                acc += Upper(chain.UpperLayerProtocol, upper, ip.Source, ip.Destination);
        }
        return acc;
    }

    private static long Upper(IpProtocol protocol, Span<byte> bytes, Ipv4Address source, Ipv4Address destination) => protocol switch
    {
        IpProtocol.Icmp => Icmpv4(bytes),
        IpProtocol.Udp => Udp(bytes) + (UdpPacket.TryCreate(bytes, out UdpPacket udp, out _) && udp.VerifyChecksum(source, destination) ? 1 : 0),
        IpProtocol.Tcp => Tcp(bytes) + (TcpPacket.TryCreate(bytes, out TcpPacket tcp, out _) && tcp.VerifyChecksum(source, destination) ? 1 : 0),
        _ => 0,
    };

    private static long Upper(IpProtocol protocol, Span<byte> bytes, Ipv6Address source, Ipv6Address destination) => protocol switch
    {
        IpProtocol.Icmpv6 => Icmpv6(bytes) + (Icmpv6Packet.TryCreate(bytes, out Icmpv6Packet icmp, out _) && icmp.VerifyChecksum(source, destination) ? 1 : 0),
        IpProtocol.Udp => Udp(bytes) + (UdpPacket.TryCreate(bytes, out UdpPacket udp, out _) && udp.VerifyChecksum(source, destination) ? 1 : 0),
        IpProtocol.Tcp => Tcp(bytes) + (TcpPacket.TryCreate(bytes, out TcpPacket tcp, out _) && tcp.VerifyChecksum(source, destination) ? 1 : 0),
        _ => 0,
    };

    private static long Icmpv4(Span<byte> bytes)
    {
        if (!Icmpv4Packet.TryCreate(bytes, out Icmpv4Packet icmp, out _))
            return 1;
        long acc = (int)icmp.Type + icmp.Code + icmp.Checksum + icmp.RestOfHeader + icmp.Identifier + icmp.SequenceNumber
            + icmp.NextHopMtu + icmp.Pointer + icmp.Data.Length;
        if (Icmpv4Header.TryParse(icmp, out Icmpv4Header header))
        {
            Span<byte> scratch = stackalloc byte[64];
            header.Emit(scratch);
            acc += scratch[0];
        }
        return acc;
    }

    private static long Icmpv6(Span<byte> bytes)
    {
        if (!Icmpv6Packet.TryCreate(bytes, out Icmpv6Packet icmp, out _))
            return 1;
        long acc = (int)icmp.Type + icmp.Code + icmp.Checksum + icmp.RestOfHeader + icmp.Identifier + icmp.SequenceNumber
            + icmp.Mtu + (icmp.RouterFlag ? 1 : 0) + (icmp.SolicitedFlag ? 1 : 0) + (icmp.OverrideFlag ? 1 : 0)
            + (long)icmp.TargetAddress.Low + icmp.Data.Length;
        var options = new NdpOptionReader(icmp.NdpOptions);
        while (options.MoveNext())
            acc += options.Type + options.Data.Length + (long)options.LinkLayerAddress.Value;
        Icmpv6Header.TryParse(icmp, out Icmpv6Header header);
        Span<byte> scratch = stackalloc byte[64];
        header.Emit(scratch);
        return acc + (int)options.Error;
    }

    private static long Udp(Span<byte> bytes)
    {
        if (!UdpPacket.TryCreate(bytes, out UdpPacket udp, out _))
            return 1;
        long acc = udp.SourcePort + udp.DestinationPort + udp.Length + udp.Checksum + udp.Datagram.Length + udp.Payload.Length
            + (udp.VerifyChecksum(0u) ? 1 : 0);
        UdpHeader.TryParse(udp, out UdpHeader header);
        Span<byte> scratch = stackalloc byte[64];
        header.Emit(scratch);
        return acc;
    }

    private static long Tcp(Span<byte> bytes)
    {
        if (!TcpPacket.TryCreate(bytes, out TcpPacket tcp, out _))
            return 1;
        long acc = tcp.SourcePort + tcp.DestinationPort + tcp.SequenceNumber + tcp.AcknowledgmentNumber + tcp.HeaderLength
            + (int)tcp.Flags + tcp.WindowSize + tcp.Checksum + tcp.UrgentPointer + tcp.Options.Length + tcp.Payload.Length;
        var options = new TcpOptionReader(tcp.Options);
        while (options.MoveNext())
        {
            acc += (int)options.Kind + options.Data.Length + options.MaxSegmentSize + options.WindowScale
                + options.Timestamps.Value + options.SackBlockCount;
            for (int i = 0; i < options.SackBlockCount; i++)
                acc += options.GetSackBlock(i).Left;
        }
        if (TcpHeader.TryParse(tcp, out TcpHeader header))
        {
            Span<byte> scratch = stackalloc byte[64];
            header.Emit(scratch);
            acc += scratch[12];
        }
        return acc + (int)options.Error;
    }
}
