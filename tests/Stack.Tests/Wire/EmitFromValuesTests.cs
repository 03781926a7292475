using XdpStack.Stack.Tests.Wire.Capture;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>Headers built from the values the captures were made with (no parsing) emit the captured octets.</summary>
public sealed class EmitFromValuesTests
{
    private static readonly MacAddress s_macA = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly MacAddress s_macB = MacAddress.Parse("02:00:00:00:00:02");

    private static byte[] Poisoned(int length)
    {
        byte[] buffer = new byte[length];
        buffer.AsSpan().Fill(0xA5);
        return buffer;
    }

    [Fact]
    public void ArpRequest_FromValues_EqualsCapturedFrame()
    {
        byte[] captured = CapturedPackets.Committed.ArpIcmp4[0];
        byte[] built = Poisoned(42);
        new EthernetHeader(MacAddress.Broadcast, s_macA, EtherType.Arp).Emit(built);
        new ArpHeader(ArpOperation.Request, s_macA, Ipv4Address.Parse("198.18.0.1"), MacAddress.Zero, Ipv4Address.Parse("198.18.0.2"))
            .Emit(built.AsSpan(14));
        Assert.Equal(captured, built);
    }

    [Fact]
    public void VlanEcho_FromValues_EqualsCapturedFrame()
    {
        byte[] captured = CapturedPackets.Committed.Vlan[0];
        byte[] built = Poisoned(captured.Length);
        EthernetHeader ethernet = EthernetHeader.Tagged(s_macB, s_macA, EtherType.Ipv4, vlanId: 10, priority: 5);
        Assert.Equal(18, ethernet.BufferLength);
        ethernet.Emit(built);
        var ip = new Ipv4Header(Ipv4Address.Parse("198.18.10.1"), Ipv4Address.Parse("198.18.10.2"), IpProtocol.Icmp, 64, 40)
        {
            Identification = 0x1234,
            DontFragment = true,
        };
        ip.Emit(built.AsSpan(18));
        Span<byte> icmp = built.AsSpan(18 + ip.HeaderLength, 40);
        for (int i = 0; i < 32; i++)
            icmp[8 + i] = (byte)(0x10 + i);
        Icmpv4Header.Echo(Icmpv4Type.EchoRequest, 4663, 1).EmitWithChecksum(icmp);
        Assert.Equal(captured, built);
    }

    [Fact]
    public void Udp6WithChecksum_FromValues_EqualsCapturedUpperLayer()
    {
        byte[] captured = CapturedPackets.Committed.Ipv6ExtensionHeaders[0];
        Span<byte> expected = captured.AsSpan(14 + 64);
        byte[] built = Poisoned(26);
        "xdpstack wire udp6"u8.CopyTo(built.AsSpan(8));
        var udp = new UdpHeader(40002, 9, 18);
        udp.EmitWithChecksum(built, Ipv6Address.Parse("2001:2::1"), Ipv6Address.Parse("2001:2::2"));
        Assert.Equal(expected.ToArray(), built);
    }

    [Fact]
    public void Udp4_ComputedZeroChecksum_IsSentAsAllOnes()
    {
        // RFC 768: find a payload whose checksum computes to zero; it must go out as 0xFFFF.
        var source = Ipv4Address.Parse("198.18.0.1");
        var destination = Ipv4Address.Parse("198.18.0.2");
        byte[] datagram = new byte[10];
        var header = new UdpHeader(1, 2, 2);
        for (int value = 0; value <= 0xFFFF; value++)
        {
            datagram[8] = (byte)(value >> 8);
            datagram[9] = (byte)value;
            header.EmitWithChecksum(datagram, source, destination);
            Assert.True(UdpPacket.TryCreate(datagram, out UdpPacket udp, out _));
            Assert.True(udp.VerifyChecksum(source, destination));
            if (udp.Checksum == 0xFFFF)
                return;
        }
        Assert.Fail("no payload gave a zero checksum");
    }

    [Fact]
    public void TcpSynOptions_FromValues_EqualLinuxLayout()
    {
        TcpPacket captured = Layers.Tcp4(CapturedPackets.Committed.Tcp4Handshake[0]);
        Assert.True(TcpHeader.TryParse(captured, out TcpHeader parsed));
        var built = new TcpHeader(40001, 8080, captured.SequenceNumber, 0, TcpFlags.Syn, captured.WindowSize)
        {
            MaxSegmentSize = 1400,
            SackPermitted = true,
            Timestamps = parsed.Timestamps,
            WindowScale = parsed.WindowScale,
        };
        byte[] segment = Poisoned(40);
        built.EmitWithChecksum(segment, Ipv4Address.Parse("198.18.0.1"), Ipv4Address.Parse("198.18.0.2"));
        Assert.Equal(captured.Buffer.ToArray(), segment);
    }

    [Theory]
    [InlineData(false, false, false, false, 20)]
    [InlineData(true, false, false, false, 24)]
    [InlineData(false, true, false, false, 24)]
    [InlineData(false, false, true, false, 32)]
    [InlineData(false, true, true, false, 32)]
    [InlineData(false, false, false, true, 24)]
    [InlineData(true, true, true, true, 40)]
    public void TcpOptions_EveryCombination_EmitAndParseBack(bool mss, bool sack, bool timestamps, bool windowScale, int headerLength)
    {
        var header = new TcpHeader(1, 2, 3, 4, TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr | TcpFlags.Ae, 5)
        {
            UrgentPointer = 6,
            MaxSegmentSize = mss ? (ushort)1234 : null,
            SackPermitted = sack,
            Timestamps = timestamps ? new TcpTimestamps(7, 8) : null,
            WindowScale = windowScale ? (byte)9 : null,
        };
        Assert.Equal(headerLength, header.HeaderLength);
        byte[] buffer = Poisoned(headerLength);
        header.Emit(buffer);
        Assert.True(TcpPacket.TryCreate(buffer, out TcpPacket packet, out _));
        Assert.Equal(headerLength, packet.HeaderLength);
        Assert.True(TcpHeader.TryParse(packet, out TcpHeader parsed));
        Assert.Equal(header, parsed);
    }

    [Fact]
    public void Ipv6Header_FromValues_RoundTripsTrafficClassAndFlowLabel()
    {
        var header = new Ipv6Header(Ipv6Address.Parse("2001:2::1"), Ipv6Address.Parse("2001:2::2"), IpProtocol.Udp, 7, 0)
        {
            TrafficClass = 0xB8,
            FlowLabel = 0xABCDE,
        };
        byte[] buffer = Poisoned(40);
        header.Emit(buffer);
        Assert.Equal(0x6B, buffer[0]);
        Assert.True(Ipv6Packet.TryCreate(buffer, out Ipv6Packet packet, out _));
        Assert.Equal(0xB8, packet.TrafficClass);
        Assert.Equal(0xABCDEu, packet.FlowLabel);
        Assert.True(Ipv6Header.TryParse(packet, out Ipv6Header parsed));
        Assert.Equal(header, parsed);
    }

    [Fact]
    public void Ipv4Header_Fragment_RoundTripsFlagsAndOffset()
    {
        var header = new Ipv4Header(Ipv4Address.Parse("198.18.0.1"), Ipv4Address.Parse("198.18.0.2"), IpProtocol.Udp, 9, 8)
        {
            MoreFragments = true,
            FragmentOffset = 1480,
            Identification = 77,
            TypeOfService = 0x2E,
        };
        byte[] buffer = Poisoned(28);
        header.Emit(buffer);
        Assert.True(Ipv4Packet.TryCreate(buffer, out Ipv4Packet packet, out _));
        Assert.True(packet.IsFragment);
        Assert.True(packet.MoreFragments);
        Assert.False(packet.DontFragment);
        Assert.Equal(1480, packet.FragmentOffset);
        Assert.True(Ipv4Header.TryParse(packet, out Ipv4Header parsed));
        Assert.Equal(header, parsed);
    }
}
