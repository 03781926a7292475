using XdpStack.Stack.Tests.Wire.Capture;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>
/// Parse every captured frame into header values and emit them into a buffer prefilled with 0xA5:
/// the result must be the captured octets, which proves every header octet is written.
/// </summary>
public sealed class EmitRoundTripTests
{
    private const byte Poison = 0xA5;

    public static TheoryData<string, int> Frames()
    {
        var data = new TheoryData<string, int>();
        foreach (string path in Directory.GetFiles(CapturedPackets.DataDirectory, "*.pcap").Order(StringComparer.Ordinal))
        {
            int count = PcapReader.ReadFrames(path).Count;
            for (int i = 0; i < count; i++)
                data.Add(Path.GetFileName(path), i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public void ParseThenEmit_CapturedFrame_GivesIdenticalOctets(string file, int index)
    {
        byte[] frame = PcapReader.ReadFrames(Path.Combine(CapturedPackets.DataDirectory, file))[index];
        byte[] rebuilt = Rebuild(frame, computeChecksums: false);
        Assert.Equal(frame, rebuilt);
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public void EmitWithChecksum_CapturedFrame_ComputesLinuxChecksums(string file, int index)
    {
        byte[] frame = PcapReader.ReadFrames(Path.Combine(CapturedPackets.DataDirectory, file))[index];
        byte[] rebuilt = Rebuild(frame, computeChecksums: true);
        Assert.Equal(frame, rebuilt);
    }

    private static byte[] Rebuild(byte[] frame, bool computeChecksums)
    {
        byte[] output = new byte[frame.Length];
        output.AsSpan().Fill(Poison);
        EthernetFrame ethernet = Layers.Ethernet(frame);
        Assert.True(EthernetHeader.TryParse(ethernet, out EthernetHeader ethernetHeader));
        ethernetHeader.Emit(output);
        Span<byte> payloadOut = output.AsSpan(ethernetHeader.HeaderLength);
        switch (ethernetHeader.EtherType)
        {
            case EtherType.Arp:
                Assert.True(ArpHeader.TryParse(Layers.Arp(frame), out ArpHeader arp));
                arp.Emit(payloadOut);
                break;
            case EtherType.Ipv4:
                RebuildIpv4(Layers.Ipv4(frame), payloadOut, computeChecksums);
                break;
            case EtherType.Ipv6:
                RebuildIpv6(frame, payloadOut, computeChecksums);
                break;
            default:
                Assert.Fail($"unexpected EtherType {ethernetHeader.EtherType}");
                break;
        }
        return output;
    }

    private static void RebuildIpv4(Ipv4Packet ip, Span<byte> output, bool computeChecksums)
    {
        Assert.True(Ipv4Header.TryParse(ip, out Ipv4Header header));
        Assert.Equal(ip.TotalLength, header.BufferLength);
        header.Emit(output);
        Span<byte> upper = output.Slice(header.HeaderLength, header.PayloadLength);
        switch (header.Protocol)
        {
            case IpProtocol.Icmp:
                Assert.True(Icmpv4Packet.TryCreate(ip.Payload, out Icmpv4Packet icmp, out _));
                Assert.True(Icmpv4Header.TryParse(icmp, out Icmpv4Header icmpHeader));
                icmp.Data.CopyTo(upper[Icmpv4Packet.HeaderLength..]);
                if (computeChecksums)
                    (icmpHeader with { Checksum = 0 }).EmitWithChecksum(upper);
                else
                    icmpHeader.Emit(upper);
                break;
            case IpProtocol.Udp:
                Assert.True(UdpPacket.TryCreate(ip.Payload, out UdpPacket udp, out _));
                Assert.True(UdpHeader.TryParse(udp, ip.Source, ip.Destination, out UdpHeader udpHeader));
                udp.Payload.CopyTo(upper[UdpPacket.HeaderLength..]);
                if (computeChecksums)
                    (udpHeader with { Checksum = 0 }).EmitWithChecksum(upper, ip.Source, ip.Destination);
                else
                    udpHeader.Emit(upper);
                break;
            case IpProtocol.Tcp:
                Assert.True(TcpPacket.TryCreate(ip.Payload, out TcpPacket tcp, out _));
                Assert.True(TcpHeader.TryParse(tcp, ip.Source, ip.Destination, out TcpHeader tcpHeader));
                Assert.Equal(tcp.HeaderLength, tcpHeader.HeaderLength);
                tcp.Payload.CopyTo(upper[tcpHeader.HeaderLength..]);
                if (computeChecksums)
                    (tcpHeader with { Checksum = 0 }).EmitWithChecksum(upper, ip.Source, ip.Destination);
                else
                    tcpHeader.Emit(upper);
                break;
            default:
                Assert.Fail($"unexpected protocol {header.Protocol}");
                break;
        }
    }

    private static void RebuildIpv6(byte[] frame, Span<byte> output, bool computeChecksums)
    {
        Span<byte> upperIn = Layers.Ipv6UpperLayer(frame, out Ipv6Packet ip, out Ipv6ExtensionChain chain);
        Assert.True(Ipv6Header.TryParse(ip, out Ipv6Header header));
        header.Emit(output);
        // Extension headers have no parsed form; they travel as octets.
        ip.Buffer[Ipv6Packet.HeaderLength..chain.UpperLayerOffset].CopyTo(output[Ipv6Packet.HeaderLength..]);
        Span<byte> upper = output.Slice(chain.UpperLayerOffset, chain.UpperLayerLength);
        if (chain.IsFragment)
        {
            // A fragment's checksum covers the reassembled message, so only the first one has a header to emit, as it is.
            upperIn.CopyTo(upper);
            if (chain.FragmentOffset == 0)
            {
                Assert.True(Icmpv6Packet.TryCreate(upperIn, out Icmpv6Packet first, out _));
                Assert.True(Icmpv6Header.TryParse(first, out Icmpv6Header firstHeader));
                firstHeader.Emit(upper);
            }
            return;
        }
        // RFC 8200 §8.1: behind a Segment Routing Header the pseudo-header holds the final segment, list[0].
        Ipv6Address destination = chain.HasRoutingHeader && chain.RoutingType == 4
            ? Ipv6Address.Read(ip.Buffer[(chain.RoutingHeaderOffset + 8)..])
            : ip.Destination;
        switch (chain.UpperLayerProtocol)
        {
            case IpProtocol.Icmpv6:
                Assert.True(Icmpv6Packet.TryCreate(upperIn, out Icmpv6Packet icmp, out _));
                Assert.True(Icmpv6Header.TryParse(icmp, ip.Source, destination, out Icmpv6Header icmpHeader));
                icmp.Data.CopyTo(upper[Icmpv6Packet.HeaderLength..]);
                if (computeChecksums)
                    (icmpHeader with { Checksum = 0 }).EmitWithChecksum(upper, ip.Source, destination);
                else
                    icmpHeader.Emit(upper);
                break;
            case IpProtocol.Udp:
                Assert.True(UdpPacket.TryCreate(upperIn, out UdpPacket udp, out _));
                Assert.True(UdpHeader.TryParse(udp, ip.Source, destination, out UdpHeader udpHeader));
                udp.Payload.CopyTo(upper[UdpPacket.HeaderLength..]);
                if (computeChecksums)
                    (udpHeader with { Checksum = 0 }).EmitWithChecksum(upper, ip.Source, destination);
                else
                    udpHeader.Emit(upper);
                break;
            default:
                Assert.Fail($"unexpected upper layer {chain.UpperLayerProtocol}");
                break;
        }
    }
}
