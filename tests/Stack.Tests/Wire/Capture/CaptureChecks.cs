using System.Text;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire.Capture;

/// <summary>
/// Field checks against the values the capture scenarios set (see Data/README.md); shared by the
/// committed-file tests and the live capture, so both prove the same things.
/// </summary>
internal static class CaptureChecks
{
    private static readonly MacAddress s_macA = MacAddress.Parse(WireCapture.MacA);
    private static readonly MacAddress s_macB = MacAddress.Parse(WireCapture.MacB);
    private static readonly Ipv4Address s_ip4A = Ipv4Address.Parse("198.18.0.1");
    private static readonly Ipv4Address s_ip4B = Ipv4Address.Parse("198.18.0.2");
    private static readonly Ipv6Address s_ip6A = Ipv6Address.Parse("2001:2::1");
    private static readonly Ipv6Address s_ip6B = Ipv6Address.Parse("2001:2::2");

    public static void CheckAll(CapturedPackets packets)
    {
        ArpAndEcho(packets.ArpIcmp4);
        NeighborDiscoveryAndEcho6(packets.Icmp6NdEcho);
        UdpAndPortUnreachable(packets.Udp4);
        TcpHandshake(packets.Tcp4Handshake);
        Ipv6Fragments(packets.Ipv6Fragments);
        Ipv6ExtensionHeaders(packets.Ipv6ExtensionHeaders);
        MldReport(packets.MldReport);
        Vlan(packets.Vlan);
    }

    public static void ArpAndEcho(List<byte[]> frames)
    {
        Assert.Equal(4, frames.Count);

        EthernetFrame request = Layers.Ethernet(frames[0]);
        Assert.Equal(42, request.Buffer.Length);
        Assert.Equal(MacAddress.Broadcast, request.Destination);
        Assert.Equal(s_macA, request.Source);
        Assert.False(request.HasVlanTag);
        Assert.Equal(14, request.HeaderLength);
        ArpPacket arp = Layers.Arp(frames[0]);
        Assert.Equal(ArpOperation.Request, arp.Operation);
        Assert.Equal(s_macA, arp.SenderHardwareAddress);
        Assert.Equal(s_ip4A, arp.SenderProtocolAddress);
        Assert.Equal(MacAddress.Zero, arp.TargetHardwareAddress);
        Assert.Equal(s_ip4B, arp.TargetProtocolAddress);

        EthernetFrame replyFrame = Layers.Ethernet(frames[1]);
        Assert.Equal(s_macA, replyFrame.Destination);
        Assert.Equal(s_macB, replyFrame.Source);
        Assert.True(ArpHeader.TryParse(Layers.Arp(frames[1]), out ArpHeader reply));
        Assert.Equal(new ArpHeader(ArpOperation.Reply, s_macB, s_ip4B, s_macA, s_ip4A), reply);

        Ipv4Packet ip = Layers.Ipv4(frames[2]);
        Assert.Equal(s_macB, Layers.Ethernet(frames[2]).Destination);
        Assert.Equal(4, ip.Version);
        Assert.Equal(20, ip.HeaderLength);
        Assert.Equal(0, ip.TypeOfService);
        Assert.Equal(84, ip.TotalLength);
        Assert.True(ip.DontFragment);
        Assert.False(ip.MoreFragments);
        Assert.False(ip.IsFragment);
        Assert.Equal(0, ip.FragmentOffset);
        Assert.Equal(64, ip.TimeToLive);
        Assert.Equal(IpProtocol.Icmp, ip.Protocol);
        Assert.Equal(s_ip4A, ip.Source);
        Assert.Equal(s_ip4B, ip.Destination);
        Assert.True(ip.Options.IsEmpty);
        Assert.Equal(64, ip.Payload.Length);

        Icmpv4Packet echo = Layers.Icmpv4(frames[2]);
        Assert.Equal(Icmpv4Type.EchoRequest, echo.Type);
        Assert.Equal(0, echo.Code);
        Assert.Equal(4660, echo.Identifier);
        Assert.Equal(1, echo.SequenceNumber);
        Assert.Equal(56, echo.Data.Length);
        // ping -p 786470 fills the data with the pattern; the first 16 octets are its timestamp.
        byte[] pattern = [0x78, 0x64, 0x70];
        for (int i = 16; i < echo.Data.Length; i++)
            Assert.Equal(pattern[i % 3], echo.Data[i]);

        Ipv4Packet replyIp = Layers.Ipv4(frames[3]);
        Assert.Equal(s_ip4B, replyIp.Source);
        Assert.Equal(s_ip4A, replyIp.Destination);
        Icmpv4Packet echoReply = Layers.Icmpv4(frames[3]);
        Assert.Equal(Icmpv4Type.EchoReply, echoReply.Type);
        Assert.Equal(4660, echoReply.Identifier);
        Assert.Equal(1, echoReply.SequenceNumber);
        Assert.True(echo.Data.SequenceEqual(echoReply.Data));
    }

    public static void NeighborDiscoveryAndEcho6(List<byte[]> frames)
    {
        Assert.Equal(4, frames.Count);

        Icmpv6Packet ns = Layers.Icmpv6(frames[0], out Ipv6Packet nsIp);
        Assert.Equal(MacAddress.FromIpv6Multicast(s_ip6B.SolicitedNodeMulticast), Layers.Ethernet(frames[0]).Destination);
        Assert.Equal(6, nsIp.Version);
        Assert.Equal(255, nsIp.HopLimit);
        Assert.Equal(IpProtocol.Icmpv6, nsIp.NextHeader);
        Assert.Equal(s_ip6A, nsIp.Source);
        Assert.Equal(Ipv6Address.Parse("ff02::1:ff00:2"), nsIp.Destination);
        Assert.Equal(32, nsIp.PayloadLength);
        Assert.Equal(Icmpv6Type.NeighborSolicitation, ns.Type);
        Assert.Equal(0, ns.Code);
        Assert.True(ns.VerifyChecksum(nsIp.Source, nsIp.Destination));
        Assert.Equal(s_ip6B, ns.TargetAddress);
        var options = new NdpOptionReader(ns.NdpOptions);
        Assert.True(options.MoveNext());
        Assert.Equal(NdpOptionReader.SourceLinkLayerAddress, options.Type);
        Assert.Equal(s_macA, options.LinkLayerAddress);
        Assert.False(options.MoveNext());
        Assert.Equal(WireError.None, options.Error);

        Icmpv6Packet na = Layers.Icmpv6(frames[1], out Ipv6Packet naIp);
        Assert.Equal(s_ip6B, naIp.Source);
        Assert.Equal(s_ip6A, naIp.Destination);
        Assert.Equal(Icmpv6Type.NeighborAdvertisement, na.Type);
        Assert.True(na.VerifyChecksum(naIp.Source, naIp.Destination));
        Assert.False(na.RouterFlag);
        Assert.True(na.SolicitedFlag);
        Assert.True(na.OverrideFlag);
        Assert.Equal(s_ip6B, na.TargetAddress);
        options = new NdpOptionReader(na.NdpOptions);
        Assert.True(options.MoveNext());
        Assert.Equal(NdpOptionReader.TargetLinkLayerAddress, options.Type);
        Assert.Equal(s_macB, options.LinkLayerAddress);

        Icmpv6Packet echo = Layers.Icmpv6(frames[2], out Ipv6Packet echoIp);
        Assert.Equal(64, echoIp.HopLimit);
        Assert.Equal(64, echoIp.PayloadLength);
        Assert.Equal(Icmpv6Type.EchoRequest, echo.Type);
        Assert.Equal(4661, echo.Identifier);
        Assert.Equal(1, echo.SequenceNumber);
        Assert.True(echo.VerifyChecksum(s_ip6A, s_ip6B));
        Assert.False(echo.VerifyChecksum(s_ip6B, Ipv6Address.Parse("2001:2::3")));
        Assert.Equal(Ipv6Address.Any, echo.TargetAddress);
        Assert.True(echo.NdpOptions.IsEmpty);

        Icmpv6Packet reply = Layers.Icmpv6(frames[3], out Ipv6Packet replyIp);
        Assert.Equal(Icmpv6Type.EchoReply, reply.Type);
        Assert.Equal(4661, reply.Identifier);
        Assert.True(reply.VerifyChecksum(replyIp.Source, replyIp.Destination));
        Assert.True(echo.Data.SequenceEqual(reply.Data));
    }

    public static void UdpAndPortUnreachable(List<byte[]> frames)
    {
        Assert.Equal(2, frames.Count);

        Ipv4Packet ip = Layers.Ipv4(frames[0]);
        Assert.Equal(0x10, ip.TypeOfService);
        Assert.Equal(4, ip.Dscp);
        Assert.Equal(0, ip.Ecn);
        Assert.Equal(33, ip.TimeToLive);
        Assert.True(ip.DontFragment);
        Assert.Equal(46, ip.TotalLength);
        UdpPacket udp = Layers.Udp4(frames[0]);
        Assert.Equal(40000, udp.SourcePort);
        Assert.Equal(9, udp.DestinationPort);
        Assert.Equal(26, udp.Length);
        Assert.NotEqual(0, udp.Checksum);
        Assert.Equal("xdpstack wire udp4", Encoding.ASCII.GetString(udp.Payload));

        // B answers with port unreachable, quoting the datagram (RFC 792, RFC 1812 §4.3.2.3).
        Ipv4Packet errorIp = Layers.Ipv4(frames[1]);
        Assert.Equal(s_ip4B, errorIp.Source);
        Assert.Equal(0xD0, errorIp.TypeOfService);
        Icmpv4Packet icmp = Layers.Icmpv4(frames[1]);
        Assert.Equal(Icmpv4Type.DestinationUnreachable, icmp.Type);
        Assert.Equal(3, icmp.Code);
        Assert.True(Ipv4Packet.TryCreate(icmp.Data, out Ipv4Packet quoted, out _));
        Assert.Equal(s_ip4A, quoted.Source);
        Assert.Equal(s_ip4B, quoted.Destination);
        Assert.Equal(IpProtocol.Udp, quoted.Protocol);
        Assert.Equal(ip.Identification, quoted.Identification);
        Assert.True(UdpPacket.TryCreate(quoted.Payload, out UdpPacket quotedUdp, out _));
        Assert.Equal(40000, quotedUdp.SourcePort);
        Assert.Equal(9, quotedUdp.DestinationPort);
    }

    public static void TcpHandshake(List<byte[]> frames)
    {
        Assert.Equal(3, frames.Count);

        TcpPacket syn = Layers.Tcp4(frames[0]);
        Assert.Equal(40001, syn.SourcePort);
        Assert.Equal(8080, syn.DestinationPort);
        Assert.Equal(TcpFlags.Syn, syn.Flags);
        Assert.Equal(0u, syn.AcknowledgmentNumber);
        Assert.Equal(40, syn.HeaderLength);
        Assert.Equal(20, syn.Options.Length);
        Assert.True(syn.Payload.IsEmpty);
        Assert.Equal(0, syn.UrgentPointer);
        Assert.True(TcpHeader.TryParse(syn, out TcpHeader synHeader));
        Assert.Equal((ushort)1400, synHeader.MaxSegmentSize);
        Assert.True(synHeader.SackPermitted);
        Assert.NotNull(synHeader.WindowScale);
        Assert.NotNull(synHeader.Timestamps);
        Assert.Equal(0u, synHeader.Timestamps.Value.EchoReply);
        Assert.Equal(40, synHeader.HeaderLength);

        // The option reader sees them in Linux's order: MSS, SACK permitted, timestamps, window scale.
        var reader = new TcpOptionReader(syn.Options);
        var kinds = new List<TcpOptionKind>();
        while (reader.MoveNext())
            kinds.Add(reader.Kind);
        Assert.Equal([TcpOptionKind.MaxSegmentSize, TcpOptionKind.SackPermitted, TcpOptionKind.Timestamps, TcpOptionKind.WindowScale], kinds);
        Assert.Equal(WireError.None, reader.Error);

        TcpPacket synAck = Layers.Tcp4(frames[1]);
        Assert.Equal(8080, synAck.SourcePort);
        Assert.Equal(40001, synAck.DestinationPort);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(syn.SequenceNumber + 1, synAck.AcknowledgmentNumber);
        Assert.True(TcpHeader.TryParse(synAck, out TcpHeader synAckHeader));
        Assert.Equal((ushort)1460, synAckHeader.MaxSegmentSize);
        Assert.True(synAckHeader.SackPermitted);
        Assert.Equal(synHeader.Timestamps.Value.Value, synAckHeader.Timestamps!.Value.EchoReply);

        TcpPacket ack = Layers.Tcp4(frames[2]);
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(syn.SequenceNumber + 1, ack.SequenceNumber);
        Assert.Equal(synAck.SequenceNumber + 1, ack.AcknowledgmentNumber);
        Assert.Equal(32, ack.HeaderLength);
        Assert.True(TcpHeader.TryParse(ack, out TcpHeader ackHeader));
        Assert.Null(ackHeader.MaxSegmentSize);
        Assert.Null(ackHeader.WindowScale);
        Assert.False(ackHeader.SackPermitted);
        Assert.Equal(synAckHeader.Timestamps.Value.Value, ackHeader.Timestamps!.Value.EchoReply);
    }

    public static void Ipv6Fragments(List<byte[]> frames)
    {
        Assert.Equal(6, frames.Count);
        CheckFragmentedEcho(frames[..3], s_ip6A, s_ip6B, Icmpv6Type.EchoRequest);
        CheckFragmentedEcho(frames[3..], s_ip6B, s_ip6A, Icmpv6Type.EchoReply);
    }

    private static void CheckFragmentedEcho(List<byte[]> frames, Ipv6Address source, Ipv6Address destination, Icmpv6Type type)
    {
        int[] offsets = [0, 1448, 2896];
        int[] lengths = [1448, 1448, 112];
        var message = new List<byte>();
        uint identification = 0;
        for (int i = 0; i < 3; i++)
        {
            Span<byte> data = Layers.Ipv6UpperLayer(frames[i], out Ipv6Packet ip, out Ipv6ExtensionChain chain);
            Assert.Equal(source, ip.Source);
            Assert.Equal(destination, ip.Destination);
            Assert.Equal(IpProtocol.Ipv6Fragment, ip.NextHeader);
            Assert.Equal(8 + lengths[i], ip.PayloadLength);
            Assert.Equal(IpProtocol.Icmpv6, chain.UpperLayerProtocol);
            Assert.Equal(1, chain.HeaderCount);
            Assert.Equal(40, chain.FragmentHeaderOffset);
            Assert.Equal(48, chain.UpperLayerOffset);
            Assert.Equal(lengths[i], chain.UpperLayerLength);
            Assert.True(chain.HasFragmentHeader);
            Assert.True(chain.IsFragment);
            Assert.False(chain.HasHopByHop);
            Assert.Equal(offsets[i], chain.FragmentOffset);
            Assert.Equal(i < 2, chain.MoreFragments);
            if (i == 0)
                identification = chain.FragmentIdentification;
            Assert.Equal(identification, chain.FragmentIdentification);
            message.AddRange(data.ToArray());
        }

        // The reassembled message is the 3008-octet echo, and its checksum covers all of it.
        byte[] whole = [.. message];
        Assert.Equal(3008, whole.Length);
        Assert.True(Icmpv6Packet.TryCreate(whole, out Icmpv6Packet echo, out _));
        Assert.Equal(type, echo.Type);
        Assert.Equal(4662, echo.Identifier);
        Assert.Equal(1, echo.SequenceNumber);
        Assert.True(echo.VerifyChecksum(source, destination));
    }

    public static void Ipv6ExtensionHeaders(List<byte[]> frames)
    {
        Assert.Equal(2, frames.Count);

        // UDP behind Hop-by-Hop and Destination Options, set by socket options.
        Ipv6Packet ip = Layers.Ipv6(frames[0]);
        Assert.Equal(IpProtocol.HopByHop, ip.NextHeader);
        Assert.Equal(17, ip.HopLimit);
        Assert.Equal(50, ip.PayloadLength);
        var reader = new Ipv6ExtensionHeaderReader(ip);
        Assert.True(reader.MoveNext());
        Assert.Equal(IpProtocol.HopByHop, reader.Current.Type);
        Assert.Equal(40, reader.Current.Offset);
        Assert.Equal(8, reader.Current.Length);
        Assert.Equal(IpProtocol.Ipv6DestinationOptions, reader.Current.NextHeader);
        Assert.Equal([1, 4, 0, 0, 0, 0], reader.Current.Options.ToArray());
        Assert.True(reader.MoveNext());
        Assert.Equal(IpProtocol.Ipv6DestinationOptions, reader.Current.Type);
        Assert.Equal(48, reader.Current.Offset);
        Assert.Equal(16, reader.Current.Length);
        Assert.Equal([0x1E, 6, 1, 2, 3, 4, 5, 6, 1, 4, 0, 0, 0, 0], reader.Current.Options.ToArray());
        Assert.False(reader.MoveNext());
        Assert.Equal(WireError.None, reader.Error);
        Assert.Equal(IpProtocol.Udp, reader.UpperLayerProtocol);
        Assert.Equal(64, reader.UpperLayerOffset);
        Assert.Equal(2, reader.Count);

        Span<byte> upper = Layers.Ipv6UpperLayer(frames[0], out ip, out Ipv6ExtensionChain chain);
        Assert.True(chain.HasHopByHop);
        Assert.False(chain.HasFragmentHeader);
        Assert.False(chain.HasRoutingHeader);
        Assert.Equal(26, chain.UpperLayerLength);
        Assert.True(UdpPacket.TryCreate(upper, out UdpPacket udp, out _));
        Assert.Equal(40002, udp.SourcePort);
        Assert.Equal(9, udp.DestinationPort);
        Assert.Equal("xdpstack wire udp6", Encoding.ASCII.GetString(udp.Payload));
        Assert.True(udp.VerifyChecksum(s_ip6A, s_ip6B));

        // ICMPv6 behind a Segment Routing Header that Linux inserted from an IPV6_RTHDR socket option.
        Span<byte> echoBytes = Layers.Ipv6UpperLayer(frames[1], out Ipv6Packet srIp, out Ipv6ExtensionChain srChain);
        Assert.Equal(IpProtocol.Ipv6Routing, srIp.NextHeader);
        Assert.Equal(s_ip6B, srIp.Destination);
        Assert.True(srChain.HasRoutingHeader);
        Assert.Equal(40, srChain.RoutingHeaderOffset);
        Assert.Equal(4, srChain.RoutingType);
        Assert.Equal(1, srChain.SegmentsLeft);
        Assert.Equal(80, srChain.UpperLayerOffset);
        Assert.Equal(IpProtocol.Icmpv6, srChain.UpperLayerProtocol);
        // RFC 8754 §2: segment list[0] is the final destination, list[1] the current one.
        Span<byte> srh = srIp.Buffer.Slice(srChain.RoutingHeaderOffset, 40);
        Ipv6Address finalDestination = Ipv6Address.Read(srh[8..]);
        Assert.Equal(Ipv6Address.Parse("2001:2::99"), finalDestination);
        Assert.Equal(s_ip6B, Ipv6Address.Read(srh[24..]));
        Assert.True(Icmpv6Packet.TryCreate(echoBytes, out Icmpv6Packet echo, out _));
        Assert.Equal(Icmpv6Type.EchoRequest, echo.Type);
        Assert.Equal(4664, echo.Identifier);
        Assert.Equal(1, echo.SequenceNumber);
        Assert.Equal("xdpstack wire srv6", Encoding.ASCII.GetString(echo.Data));
        // RFC 8200 §8.1: with a Routing header the pseudo-header carries the final destination.
        Assert.True(echo.VerifyChecksum(s_ip6A, finalDestination));
        Assert.False(echo.VerifyChecksum(s_ip6A, s_ip6B));
    }

    public static void MldReport(List<byte[]> frames)
    {
        Assert.Single(frames);
        Assert.Equal(MacAddress.Parse("33:33:00:00:00:16"), Layers.Ethernet(frames[0]).Destination);
        Icmpv6Packet report = Layers.Icmpv6(frames[0], out Ipv6Packet ip);
        // Linux made it from the MAC by modified EUI-64.
        Assert.Equal(Ipv6Address.LinkLocalFromMac(s_macA), ip.Source);
        Assert.Equal(Ipv6Address.Parse("fe80::ff:fe00:1"), ip.Source);
        Assert.True(ip.Source.IsLinkLocal);
        Assert.Equal(Ipv6Address.Parse("ff02::16"), ip.Destination);
        Assert.Equal(1, ip.HopLimit);
        Assert.Equal(IpProtocol.HopByHop, ip.NextHeader);
        var reader = new Ipv6ExtensionHeaderReader(ip);
        Assert.True(reader.MoveNext());
        // Router Alert (RFC 2711): type 5, length 2, value 0 (MLD); then PadN.
        Assert.Equal([5, 2, 0, 0, 1, 0], reader.Current.Options.ToArray());
        Assert.False(reader.MoveNext());
        Assert.Equal(48, reader.UpperLayerOffset);
        Assert.Equal(Icmpv6Type.MulticastListenerReportV2, report.Type);
        Assert.True(report.VerifyChecksum(ip.Source, ip.Destination));
        // RFC 3810 §5.2: one record; its group address follows type, aux length and source count.
        Assert.Equal(1u, report.RestOfHeader & 0xFFFF);
        Assert.Equal(Ipv6Address.Parse("ff05::1:3"), Ipv6Address.Read(report.Data[4..]));
    }

    public static void Vlan(List<byte[]> frames)
    {
        Assert.Single(frames);
        EthernetFrame ethernet = Layers.Ethernet(frames[0]);
        Assert.Equal(s_macB, ethernet.Destination);
        Assert.Equal(s_macA, ethernet.Source);
        Assert.True(ethernet.HasVlanTag);
        Assert.Equal(EtherType.Vlan, ethernet.OuterEtherType);
        Assert.Equal(10, ethernet.VlanId);
        Assert.Equal(5, ethernet.Priority);
        Assert.False(ethernet.DropEligible);
        Assert.Equal(EtherType.Ipv4, ethernet.EtherType);
        Assert.Equal(18, ethernet.HeaderLength);

        Ipv4Packet ip = Layers.Ipv4(frames[0]);
        Assert.Equal(Ipv4Address.Parse("198.18.10.1"), ip.Source);
        Assert.Equal(Ipv4Address.Parse("198.18.10.2"), ip.Destination);
        Assert.Equal(0x1234, ip.Identification);
        Icmpv4Packet echo = Layers.Icmpv4(frames[0]);
        Assert.Equal(Icmpv4Type.EchoRequest, echo.Type);
        Assert.Equal(4663, echo.Identifier);
        Assert.Equal(1, echo.SequenceNumber);
        Assert.Equal(Enumerable.Range(0x10, 32).Select(i => (byte)i).ToArray(), echo.Data.ToArray());
    }
}
