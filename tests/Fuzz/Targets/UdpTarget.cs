using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>UdpPacket and UdpHeader over an IP packet's upper layer (or the whole input): accessors, checksums of both families, round trip.</summary>
internal sealed class UdpTarget : WireTarget
{
    public override string Name => "udp";

    public override string Covers => "UdpPacket/UdpHeader: accessors, IPv4 and IPv6 checksums, round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> datagram = UpperLayer(Buffer.Place(input), out bool ipv6, out Ipv4Address s4, out Ipv4Address d4,
            out Ipv6Address s6, out Ipv6Address d6, out _);
        if (!UdpPacket.TryCreate(datagram, out UdpPacket udp, out WireError error))
        {
            Check(error != WireError.None, "refused without a reason");
            return;
        }
        Check(udp.Length >= UdpPacket.HeaderLength && udp.Length <= datagram.Length, "length outside what TryCreate checked");
        _ = udp.SourcePort + udp.DestinationPort + udp.Checksum + udp.Payload.Length + udp.Datagram.Length;
        bool parsed = ipv6 ? UdpHeader.TryParse(udp, s6, d6, out UdpHeader header) : UdpHeader.TryParse(udp, s4, d4, out header);
        if (!parsed)
            Check(UdpHeader.TryParse(udp, out header), "a checked datagram did not parse without its checksum");
        byte[] emitted = new byte[header.BufferLength];
        emitted.AsSpan().Fill(0xA5);
        udp.Payload.CopyTo(emitted.AsSpan(header.HeaderLength));
        if (ipv6)
            header.EmitWithChecksum(emitted, s6, d6);
        else
            header.EmitWithChecksum(emitted, s4, d4);
        Check(UdpPacket.TryCreate(emitted, out UdpPacket again, out _), "emitted datagram refused");
        Check(ipv6 ? again.VerifyChecksum(s6, d6) : again.VerifyChecksum(s4, d4), "emitted checksum does not verify");
        Check(UdpHeader.TryParse(again, out UdpHeader reparsed) && reparsed with { Checksum = 0 } == header with { Checksum = 0 },
            $"round trip: {header} became {reparsed}");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => IpPackets(source);
}
