using XdpStack.Stack.Tests.Wire.Capture;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>Payloads follow the length fields, not the buffer; setters write where the getters read.</summary>
public sealed class PaddingAndSetterTests
{
    private static byte[] Padded(byte[] frame, int extra)
    {
        byte[] padded = new byte[frame.Length + extra];
        frame.CopyTo(padded, 0);
        padded.AsSpan(frame.Length).Fill(0xEE);
        return padded;
    }

    [Fact]
    public void Ipv4_EthernetPadding_IsNotPayload()
    {
        // The captured UDP datagram with trailing octets, as a NIC hands over a padded frame.
        byte[] original = CapturedPackets.Committed.Udp4[0];
        byte[] frame = Padded(original, 8);
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
        Assert.Equal(frame.Length - 14, ethernet.Payload.Length);
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip, out _));
        Assert.Equal(26, ip.Payload.Length);
        Assert.True(UdpPacket.TryCreate(ip.Payload, out UdpPacket udp, out _));
        Assert.Equal("xdpstack wire udp4"u8.ToArray(), udp.Payload.ToArray());
        Assert.True(udp.VerifyChecksum(ip.Source, ip.Destination));
    }

    [Fact]
    public void Ipv4_PaddedToEthernetMinimum_TcpSeesNoPadding()
    {
        // A bare ACK is 54 octets on the wire without options; Ethernet pads it to 60.
        byte[] ack = CapturedPackets.Committed.Tcp4Handshake[2];
        byte[] frame = Padded(ack, 6);
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip, out _));
        Assert.True(TcpPacket.TryCreate(ip.Payload, out TcpPacket tcp, out _));
        Assert.True(tcp.Payload.IsEmpty);
        Assert.True(tcp.VerifyChecksum(ip.Source, ip.Destination));
    }

    [Fact]
    public void Ipv6_EthernetPadding_IsNotPayload()
    {
        byte[] frame = Padded(CapturedPackets.Committed.Icmp6NdEcho[0], 10);
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
        Assert.True(Ipv6Packet.TryCreate(ethernet.Payload, out Ipv6Packet ip, out _));
        Assert.Equal(32, ip.Payload.Length);
        Assert.Equal(72, ip.Packet.Length);
        Assert.True(Ipv6ExtensionHeaderReader.TryWalk(ip, out Ipv6ExtensionChain chain, out _));
        Assert.Equal(32, chain.UpperLayerLength);
        Assert.True(Icmpv6Packet.TryCreate(ip.Buffer.Slice(chain.UpperLayerOffset, chain.UpperLayerLength), out Icmpv6Packet ns, out _));
        Assert.True(ns.VerifyChecksum(ip.Source, ip.Destination));
    }

    [Fact]
    public void Arp_PaddedTo60_ReadsTheSame()
    {
        byte[] frame = Padded(CapturedPackets.Committed.ArpIcmp4[1], 18);
        Assert.Equal(60, frame.Length);
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
        Assert.True(ArpPacket.TryCreate(ethernet.Payload, out ArpPacket arp, out _));
        Assert.Equal(ArpOperation.Reply, arp.Operation);
        Assert.Equal(Ipv4Address.Parse("198.18.0.2"), arp.SenderProtocolAddress);
    }

    [Fact]
    public void Udp_LengthShorterThanIpPayload_PayloadFollowsUdpLength()
    {
        byte[] udp = [.. CapturedPackets.Committed.Udp4[0][34..], 1, 2, 3];
        Assert.True(UdpPacket.TryCreate(udp, out UdpPacket packet, out _));
        Assert.Equal(18, packet.Payload.Length);
        Assert.Equal(26, packet.Datagram.Length);
        Assert.True(packet.VerifyChecksum(Ipv4Address.Parse("198.18.0.1"), Ipv4Address.Parse("198.18.0.2")));
    }

    [Fact]
    public void Ipv4_DecrementTimeToLive_KeepsChecksumValid()
    {
        foreach (byte[] frame in CapturedPackets.Committed.All)
        {
            Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
            if (ethernet.EtherType != EtherType.Ipv4)
                continue;
            Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip, out _));
            byte ttl = ip.TimeToLive;
            for (int i = 1; i < ttl; i++)
            {
                Assert.Equal((byte)(ttl - i), ip.DecrementTimeToLive());
                Assert.True(ip.VerifyChecksum());
            }
            // The incremental result is the checksum a full recomputation gives.
            ushort incremental = ip.HeaderChecksum;
            ip.FillChecksum();
            Assert.Equal(incremental, ip.HeaderChecksum);
        }
    }

    [Fact]
    public void Ipv4_SetAddresses_WriteWireOrder()
    {
        byte[] frame = CapturedPackets.Committed.Udp4[0];
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
        ethernet.Destination = MacAddress.Parse("02:00:00:00:00:09");
        ethernet.Source = MacAddress.Parse("02:00:00:00:00:08");
        Assert.Equal([2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, 8], frame[..12]);
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip, out _));
        ip.Source = Ipv4Address.Parse("198.19.1.2");
        ip.Destination = Ipv4Address.Parse("198.19.3.4");
        ip.TimeToLive = 9;
        ip.Identification = 0xBEEF;
        ip.FillChecksum();
        Assert.Equal([198, 19, 1, 2, 198, 19, 3, 4], frame[26..34]);
        Assert.True(ip.VerifyChecksum());
        Assert.True(UdpPacket.TryCreate(ip.Payload, out UdpPacket udp, out _));
        udp.SourcePort = 5000;
        udp.DestinationPort = 6000;
        Assert.Equal([0x13, 0x88, 0x17, 0x70], frame[34..38]);
        Assert.False(udp.VerifyChecksum(ip.Source, ip.Destination));
        new UdpHeader(5000, 6000, udp.Payload.Length).EmitWithChecksum(ip.Payload, ip.Source, ip.Destination);
        Assert.True(udp.VerifyChecksum(ip.Source, ip.Destination));
    }

    [Fact]
    public void Ipv6_SettersAndHopLimit_WriteWhereGettersRead()
    {
        byte[] frame = CapturedPackets.Committed.Icmp6NdEcho[2];
        Assert.True(Ipv6Packet.TryCreate(frame.AsSpan(14), out Ipv6Packet ip, out _));
        Assert.Equal(63, ip.DecrementHopLimit());
        Assert.Equal(63, frame[14 + 7]);
        ip.Source = Ipv6Address.Parse("2001:2:0:1::5");
        ip.Destination = Ipv6Address.Parse("2001:2:0:2::6");
        Assert.Equal(Ipv6Address.Parse("2001:2:0:1::5"), Ipv6Address.Read(frame.AsSpan(14 + 8)));
        Assert.Equal(Ipv6Address.Parse("2001:2:0:2::6"), ip.Destination);
        Assert.True(Icmpv6Packet.TryCreate(ip.Payload, out Icmpv6Packet icmp, out _));
        Assert.False(icmp.VerifyChecksum(ip.Source, ip.Destination));
        icmp.FillChecksum(ip.Source, ip.Destination);
        Assert.True(icmp.VerifyChecksum(ip.Source, ip.Destination));
    }

    [Fact]
    public void ArpAndEthernet_Setters_TurnRequestIntoReply()
    {
        // What an ARP responder does in place: swap, fill in its MAC, set the opcode.
        byte[] frame = CapturedPackets.Committed.ArpIcmp4[0];
        byte[] expected = CapturedPackets.Committed.ArpIcmp4[1];
        var macB = MacAddress.Parse("02:00:00:00:00:02");
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
        Assert.True(ArpPacket.TryCreate(ethernet.Payload, out ArpPacket arp, out _));
        ethernet.Destination = ethernet.Source;
        ethernet.Source = macB;
        (Ipv4Address sender, MacAddress senderMac) = (arp.SenderProtocolAddress, arp.SenderHardwareAddress);
        arp.Operation = ArpOperation.Reply;
        arp.TargetHardwareAddress = senderMac;
        arp.SenderProtocolAddress = arp.TargetProtocolAddress;
        arp.TargetProtocolAddress = sender;
        arp.SenderHardwareAddress = macB;
        Assert.Equal(expected, frame);
    }

    [Fact]
    public void ParsingACapturedFrame_DoesNotAllocate()
    {
        byte[] tcpFrame = CapturedPackets.Committed.Tcp4Handshake[0];
        byte[] ipv6Frame = CapturedPackets.Committed.Ipv6ExtensionHeaders[0];
        long sink = WireFuzz.TouchEverything(tcpFrame) + WireFuzz.TouchEverything(ipv6Frame);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            sink += WireFuzz.TouchEverything(tcpFrame) + WireFuzz.TouchEverything(ipv6Frame);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotEqual(0, sink);
        Assert.Equal(0, allocated);
    }
}
