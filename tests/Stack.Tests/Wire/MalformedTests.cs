using System.Buffers.Binary;
using XdpStack.Stack.Tests.Wire.Capture;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>One malformed case per rule each <c>TryCreate</c> enforces, each starting from a real captured packet.</summary>
public sealed class MalformedTests
{
    private static byte[] Ipv4Bytes() => CapturedPackets.Committed.Udp4[0][14..];

    private static byte[] Ipv6Bytes() => CapturedPackets.Committed.Icmp6NdEcho[2][14..];

    [Fact]
    public void Ethernet_ShorterThanHeader_Truncated()
    {
        Assert.False(EthernetFrame.TryCreate(new byte[13], out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
        Assert.True(EthernetFrame.TryCreate(new byte[14], out EthernetFrame empty, out _));
        Assert.True(empty.Payload.IsEmpty);
    }

    [Fact]
    public void Ethernet_TagWithoutRoom_Truncated()
    {
        byte[] frame = CapturedPackets.Committed.Vlan[0][..17];
        Assert.False(EthernetFrame.TryCreate(frame, out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
        Assert.True(EthernetFrame.TryCreate(CapturedPackets.Committed.Vlan[0][..18], out EthernetFrame tagged, out _));
        Assert.Equal(10, tagged.VlanId);
    }

    [Fact]
    public void Ethernet_QinQ_IsNotTreatedAsATag()
    {
        byte[] frame = CapturedPackets.Committed.Vlan[0];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), (ushort)EtherType.QinQ);
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _));
        Assert.False(ethernet.HasVlanTag);
        Assert.Equal(EtherType.QinQ, ethernet.EtherType);
        Assert.Equal(0, ethernet.VlanId);
        Assert.Equal(14, ethernet.HeaderLength);
    }

    [Theory]
    [InlineData(0, 2, 0, 1)] // hardware type 2
    [InlineData(2, 0x86, 3, 0xDD)] // protocol type IPv6
    [InlineData(4, 8, 4, 8)] // hardware length 8
    [InlineData(5, 16, 5, 16)] // protocol length 16
    public void Arp_NotEthernetIpv4_Unsupported(int at1, byte value1, int at2, byte value2)
    {
        byte[] arp = CapturedPackets.Committed.ArpIcmp4[0][14..];
        arp[at1] = value1;
        arp[at2] = value2;
        Assert.False(ArpPacket.TryCreate(arp, out _, out WireError error));
        Assert.Equal(WireError.UnsupportedArpFormat, error);
    }

    [Fact]
    public void Arp_Short_TruncatedAndUnknownOperationRejectedByTryParse()
    {
        byte[] arp = CapturedPackets.Committed.ArpIcmp4[0][14..];
        Assert.False(ArpPacket.TryCreate(arp.AsSpan(0, 27), out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
        arp[7] = 3; // RARP request (RFC 903)
        Assert.True(ArpPacket.TryCreate(arp, out ArpPacket packet, out _));
        Assert.False(ArpHeader.TryParse(packet, out _));
    }

    [Fact]
    public void Ipv4_Short_Truncated()
    {
        Assert.False(Ipv4Packet.TryCreate(Ipv4Bytes().AsSpan(0, 19), out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
    }

    [Fact]
    public void Ipv4_Version6_BadVersion()
    {
        byte[] ip = Ipv4Bytes();
        ip[0] = 0x65;
        Assert.False(Ipv4Packet.TryCreate(ip, out _, out WireError error));
        Assert.Equal(WireError.BadVersion, error);
    }

    [Fact]
    public void Ipv4_SmallIhl_BadHeaderLength()
    {
        byte[] ip = Ipv4Bytes();
        ip[0] = 0x44;
        Assert.False(Ipv4Packet.TryCreate(ip, out _, out WireError error));
        Assert.Equal(WireError.BadHeaderLength, error);
    }

    [Fact]
    public void Ipv4_TotalLengthBelowHeader_BadTotalLength()
    {
        byte[] ip = Ipv4Bytes();
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), 19);
        Assert.False(Ipv4Packet.TryCreate(ip, out _, out WireError error));
        Assert.Equal(WireError.BadTotalLength, error);
        ip[0] = 0x4F; // IHL 60 with a 46-octet total length
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), 46);
        Assert.False(Ipv4Packet.TryCreate(ip, out _, out error));
        Assert.Equal(WireError.BadTotalLength, error);
    }

    [Fact]
    public void Ipv4_TotalLengthPastBuffer_Truncated()
    {
        byte[] ip = Ipv4Bytes();
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)(ip.Length + 1));
        Assert.False(Ipv4Packet.TryCreate(ip, out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
    }

    [Fact]
    public void Ipv4_BadHeaderChecksum_TryParseFails()
    {
        byte[] ip = Ipv4Bytes();
        ip[8]--; // TTL changed without the checksum
        Assert.True(Ipv4Packet.TryCreate(ip, out Ipv4Packet packet, out _));
        Assert.False(packet.VerifyChecksum());
        Assert.False(Ipv4Header.TryParse(packet, out _));
        packet.FillChecksum();
        Assert.True(Ipv4Header.TryParse(packet, out Ipv4Header header));
        Assert.Equal(32, header.TimeToLive);
    }

    [Fact]
    public void Ipv4_Options_AreHeaderNotPayload()
    {
        // Insert a 4-octet option (NOP, NOP, NOP, EOL) into the captured UDP packet.
        byte[] original = Ipv4Bytes();
        byte[] ip = [.. original[..20], 1, 1, 1, 0, .. original[20..]];
        ip[0] = 0x46;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
        Assert.True(Ipv4Packet.TryCreate(ip, out Ipv4Packet packet, out _));
        packet.FillChecksum();
        Assert.Equal(24, packet.HeaderLength);
        Assert.Equal([1, 1, 1, 0], packet.Options.ToArray());
        Assert.Equal(original[20..], packet.Payload.ToArray());
        Assert.True(Ipv4Header.TryParse(packet, out Ipv4Header header));
        Assert.Equal(20, header.HeaderLength);
        Assert.Equal(26, header.PayloadLength);
    }

    [Fact]
    public void Ipv6_ShortVersionOrPayloadLength_Rejected()
    {
        byte[] ip = Ipv6Bytes();
        Assert.False(Ipv6Packet.TryCreate(ip.AsSpan(0, 39), out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
        Assert.False(Ipv6Packet.TryCreate(ip.AsSpan(0, ip.Length - 1), out _, out error));
        Assert.Equal(WireError.Truncated, error);
        ip[0] = 0x40;
        Assert.False(Ipv6Packet.TryCreate(ip, out _, out error));
        Assert.Equal(WireError.BadVersion, error);
    }

    /// <summary>Builds an IPv6 packet whose payload is <paramref name="payload"/>, starting with header type <paramref name="first"/>.</summary>
    private static byte[] Ipv6With(IpProtocol first, params byte[] payload)
    {
        byte[] packet = new byte[40 + payload.Length];
        new Ipv6Header(Ipv6Address.Parse("2001:2::1"), Ipv6Address.Parse("2001:2::2"), first, 64, payload.Length).Emit(packet);
        payload.CopyTo(packet, 40);
        return packet;
    }

    private static WireError Walk(byte[] packet, out Ipv6ExtensionChain chain)
    {
        Assert.True(Ipv6Packet.TryCreate(packet, out Ipv6Packet ip, out _));
        Ipv6ExtensionHeaderReader.TryWalk(ip, out chain, out WireError error);
        return error;
    }

    [Fact]
    public void ExtensionHeaders_LengthPastPayload_Truncated()
    {
        // Hop-by-Hop saying 16 octets, with 8 present.
        Assert.Equal(WireError.TruncatedExtensionHeader, Walk(Ipv6With(IpProtocol.HopByHop, 59, 1, 1, 4, 0, 0, 0, 0), out _));
        // Fewer than 8 octets left for a header.
        Assert.Equal(WireError.TruncatedExtensionHeader, Walk(Ipv6With(IpProtocol.Ipv6DestinationOptions, 59, 0, 1, 2, 0, 0), out _));
        // A Fragment header needs all 8.
        Assert.Equal(WireError.TruncatedExtensionHeader, Walk(Ipv6With(IpProtocol.Ipv6Fragment, 58, 0, 0, 1, 0, 0, 0), out _));
        // The captured fragment header with the last octet cut off.
        byte[] fragment = CapturedPackets.Committed.Ipv6Fragments[0][14..(14 + 47)];
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(4), 7);
        Assert.Equal(WireError.TruncatedExtensionHeader, Walk(fragment, out _));
    }

    [Fact]
    public void ExtensionHeaders_HopByHopNotFirst_Misplaced()
    {
        byte[] packet = Ipv6With(IpProtocol.Ipv6DestinationOptions, 0, 0, 1, 4, 0, 0, 0, 0, 59, 0, 1, 4, 0, 0, 0, 0);
        Assert.Equal(WireError.MisplacedHopByHop, Walk(packet, out _));
    }

    [Fact]
    public void ExtensionHeaders_TooMany_Rejected()
    {
        byte[] MakeChain(int count)
        {
            var payload = new List<byte>();
            for (int i = 0; i < count; i++)
                payload.AddRange([(byte)(i == count - 1 ? 59 : 60), 0, 1, 4, 0, 0, 0, 0]);
            return Ipv6With(IpProtocol.Ipv6DestinationOptions, [.. payload]);
        }

        Assert.Equal(WireError.None, Walk(MakeChain(Ipv6ExtensionHeaderReader.MaxHeaders), out Ipv6ExtensionChain chain));
        Assert.Equal(Ipv6ExtensionHeaderReader.MaxHeaders, chain.HeaderCount);
        Assert.Equal(IpProtocol.Ipv6NoNextHeader, chain.UpperLayerProtocol);
        Assert.Equal(0, chain.UpperLayerLength);
        Assert.Equal(WireError.TooManyExtensionHeaders, Walk(MakeChain(Ipv6ExtensionHeaderReader.MaxHeaders + 1), out _));
    }

    [Fact]
    public void ExtensionHeaders_LaterFragment_StopsAtFragmentData()
    {
        // The captured second fragment: what follows its Fragment header is data that happens to look like anything.
        byte[] packet = CapturedPackets.Committed.Ipv6Fragments[1][14..];
        packet[48] = 0; // data octet that would read as a Next Header of Hop-by-Hop
        Assert.Equal(WireError.None, Walk(packet, out Ipv6ExtensionChain chain));
        Assert.Equal(1, chain.HeaderCount);
        Assert.Equal(1448, chain.FragmentOffset);
        Assert.Equal(48, chain.UpperLayerOffset);
    }

    [Fact]
    public void ExtensionHeaders_AtomicFragmentAndAh_Walked()
    {
        // Fragment header with offset 0 and M clear (RFC 6946), then AH with payload length 1 (12 octets), then UDP.
        byte[] packet = Ipv6With(IpProtocol.Ipv6Fragment,
            51, 0, 0, 0, 0, 0, 0, 9,
            17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2,
            0, 1, 0, 2, 0, 8, 0, 0);
        Assert.Equal(WireError.None, Walk(packet, out Ipv6ExtensionChain chain));
        Assert.True(chain.HasFragmentHeader);
        Assert.False(chain.IsFragment);
        Assert.Equal(9u, chain.FragmentIdentification);
        Assert.Equal(2, chain.HeaderCount);
        Assert.Equal(IpProtocol.Udp, chain.UpperLayerProtocol);
        Assert.Equal(60, chain.UpperLayerOffset);
        Assert.Equal(8, chain.UpperLayerLength);
    }

    [Fact]
    public void ExtensionHeaders_ChainFollowsPayloadLengthNotPadding()
    {
        // Padding after the payload must not be read as a header, even when it is long enough for one.
        byte[] packet = [.. Ipv6With(IpProtocol.Ipv6DestinationOptions, 60, 0, 1, 4, 0, 0, 0, 0), 59, 0, 1, 4, 0, 0, 0, 0];
        Assert.Equal(WireError.TruncatedExtensionHeader, Walk(packet, out _));
    }

    [Fact]
    public void Udp_LengthRules_Enforced()
    {
        byte[] udp = Ipv4Bytes()[20..];
        Assert.False(UdpPacket.TryCreate(udp.AsSpan(0, 7), out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), 7);
        Assert.False(UdpPacket.TryCreate(udp, out _, out error));
        Assert.Equal(WireError.BadLength, error);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)(udp.Length + 1));
        Assert.False(UdpPacket.TryCreate(udp, out _, out error));
        Assert.Equal(WireError.Truncated, error);
    }

    [Fact]
    public void Udp_ZeroChecksum_ValidOverIpv4InvalidOverIpv6()
    {
        byte[] udp = Ipv4Bytes()[20..];
        Assert.True(UdpPacket.TryCreate(udp, out UdpPacket packet, out _));
        var a4 = Ipv4Address.Parse("198.18.0.1");
        var b4 = Ipv4Address.Parse("198.18.0.2");
        Assert.True(packet.VerifyChecksum(a4, b4));
        Assert.False(packet.VerifyChecksum(a4, Ipv4Address.Parse("198.18.0.3")));
        packet.Checksum = 0;
        Assert.True(packet.VerifyChecksum(a4, b4));
        Assert.True(UdpHeader.TryParse(packet, a4, b4, out _));
        Assert.False(packet.VerifyChecksum(Ipv6Address.Parse("2001:2::1"), Ipv6Address.Parse("2001:2::2")));
        Assert.False(UdpHeader.TryParse(packet, Ipv6Address.Parse("2001:2::1"), Ipv6Address.Parse("2001:2::2"), out _));
    }

    [Fact]
    public void Tcp_HeaderLengthRules_Enforced()
    {
        byte[] tcp = CapturedPackets.Committed.Tcp4Handshake[0][34..];
        Assert.False(TcpPacket.TryCreate(tcp.AsSpan(0, 19), out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
        Assert.False(TcpPacket.TryCreate(tcp.AsSpan(0, 39), out _, out error));
        Assert.Equal(WireError.Truncated, error);
        tcp[12] = 0x40;
        Assert.False(TcpPacket.TryCreate(tcp, out _, out error));
        Assert.Equal(WireError.BadHeaderLength, error);
    }

    [Theory]
    [InlineData(new byte[] { 2, 4, 5, 0x78, 3, 0 })] // zero length
    [InlineData(new byte[] { 2, 4, 5, 0x78, 3, 1 })] // length 1
    [InlineData(new byte[] { 2, 4, 5, 0x78, 9, 8 })] // past the end
    [InlineData(new byte[] { 2, 3, 5, 1 })] // MSS of length 3
    [InlineData(new byte[] { 1, 3, 2, 1 })] // window scale of length 2
    [InlineData(new byte[] { 8, 8, 0, 0, 0, 0, 0, 0 })] // timestamps of length 8
    [InlineData(new byte[] { 5, 6, 0, 0, 0, 0, 1, 1 })] // SACK with a partial block
    [InlineData(new byte[] { 1, 1, 1, 2 })] // a kind with no room for its length
    public void TcpOptions_Malformed_BadOption(byte[] options)
    {
        var reader = new TcpOptionReader(options);
        while (reader.MoveNext())
        {
        }
        Assert.Equal(WireError.BadOption, reader.Error);
        byte[] segment = new byte[20 + ((options.Length + 3) / 4 * 4)];
        options.CopyTo(segment, 20);
        segment[12] = (byte)((segment.Length / 4) << 4);
        Assert.True(TcpPacket.TryCreate(segment, out TcpPacket packet, out _));
        Assert.False(TcpHeader.TryParse(packet, out _));
    }

    [Fact]
    public void TcpOptions_EndOfOptionsAndSack_AreRead()
    {
        byte[] options = [5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0xFF, 0xFF];
        var reader = new TcpOptionReader(options);
        Assert.True(reader.MoveNext());
        Assert.Equal(TcpOptionKind.Sack, reader.Kind);
        Assert.Equal(2, reader.SackBlockCount);
        Assert.Equal((1u, 2u), reader.GetSackBlock(0));
        Assert.Equal((3u, 4u), reader.GetSackBlock(1));
        Assert.False(reader.MoveNext()); // End of Options: the octets after it are not read
        Assert.Equal(WireError.None, reader.Error);
    }

    [Fact]
    public void Icmp_ShorterThanHeader_Truncated()
    {
        Assert.False(Icmpv4Packet.TryCreate(new byte[7], out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
        Assert.False(Icmpv6Packet.TryCreate(new byte[7], out _, out error));
        Assert.Equal(WireError.Truncated, error);
    }

    [Fact]
    public void Icmpv6_NeighborSolicitationWithoutTarget_Truncated()
    {
        Icmpv6Packet ns = Layers.Icmpv6(CapturedPackets.Committed.Icmp6NdEcho[0], out _);
        byte[] shortNs = ns.Buffer[..23].ToArray();
        Assert.False(Icmpv6Packet.TryCreate(shortNs, out _, out WireError error));
        Assert.Equal(WireError.Truncated, error);
        Assert.True(Icmpv6Packet.TryCreate(ns.Buffer[..24], out Icmpv6Packet bare, out _));
        Assert.True(bare.NdpOptions.IsEmpty);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 2, 0, 0, 0, 0, 1 })] // zero length
    [InlineData(new byte[] { 1, 2, 2, 0, 0, 0, 0, 1 })] // 16 octets claimed, 8 present
    [InlineData(new byte[] { 1 })] // no length octet
    public void NdpOptions_Malformed_BadOption(byte[] options)
    {
        var reader = new NdpOptionReader(options);
        Assert.False(reader.MoveNext());
        Assert.Equal(WireError.BadOption, reader.Error);
    }

    [Fact]
    public void Icmpv4_BadChecksum_TryParseFails()
    {
        byte[] icmp = CapturedPackets.Committed.ArpIcmp4[2][34..];
        icmp[^1] ^= 1;
        Assert.True(Icmpv4Packet.TryCreate(icmp, out Icmpv4Packet packet, out _));
        Assert.False(Icmpv4Header.TryParse(packet, out _));
        packet.FillChecksum();
        Assert.True(Icmpv4Header.TryParse(packet, out _));
    }
}
