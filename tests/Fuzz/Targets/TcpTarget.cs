using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>TcpPacket, TcpHeader and the TCP option reader over an IP packet's upper layer (or the whole input).</summary>
internal sealed class TcpTarget : WireTarget
{
    public override string Name => "tcp";

    public override string Covers => "TcpPacket/TcpHeader, TcpOptionReader: accessors, SACK blocks, checksum, round trip of the options it knows";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> segment = UpperLayer(Buffer.Place(input), out bool ipv6, out Ipv4Address s4, out Ipv4Address d4,
            out Ipv6Address s6, out Ipv6Address d6, out _);
        if (!TcpPacket.TryCreate(segment, out TcpPacket tcp, out WireError error))
        {
            Check(error != WireError.None, "refused without a reason");
            return;
        }
        Check(tcp.HeaderLength >= TcpPacket.MinHeaderLength && tcp.HeaderLength <= segment.Length, "header length outside what TryCreate checked");
        _ = tcp.SourcePort + tcp.DestinationPort + tcp.SequenceNumber + tcp.AcknowledgmentNumber + (int)tcp.Flags + tcp.WindowSize
            + tcp.Checksum + tcp.UrgentPointer + tcp.Payload.Length + (ipv6 ? (tcp.VerifyChecksum(s6, d6) ? 1 : 0) : (tcp.VerifyChecksum(s4, d4) ? 1 : 0));
        var options = new TcpOptionReader(tcp.Options);
        while (options.MoveNext())
        {
            _ = (int)options.Kind + options.Data.Length + options.MaxSegmentSize + options.WindowScale + options.Timestamps.GetHashCode();
            for (int i = 0; i < options.SackBlockCount; i++)
                _ = options.GetSackBlock(i);
        }
        if (!TcpHeader.TryParse(tcp, out TcpHeader header))
        {
            Check(options.Error != WireError.None, "a segment whose options read cleanly did not parse");
            return;
        }
        byte[] emitted = new byte[header.BufferLength(tcp.Payload.Length)];
        emitted.AsSpan().Fill(0xA5);
        tcp.Payload.CopyTo(emitted.AsSpan(header.HeaderLength));
        header.Emit(emitted);
        Check(header.HeaderLength <= 60, $"a {header.HeaderLength}-octet header emitted");
        Check(TcpPacket.TryCreate(emitted, out TcpPacket again, out _), "emitted segment refused");
        // What comes back is the header with the SACK blocks that fit beside its other options.
        var kept = default(TcpSackBlocks);
        for (int i = 0; i < header.EmittedSackBlocks; i++)
            kept.Add(header.SackBlocks.Left(i), header.SackBlocks.Right(i));
        TcpHeader expected = header with { SackBlocks = kept };
        Check(TcpHeader.TryParse(again, out TcpHeader reparsed) && reparsed == expected, $"round trip: {expected} became {reparsed}");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => IpPackets(source);
}
