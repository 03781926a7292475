using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>Icmpv6Packet, Icmpv6Header and the NDP option reader over an IPv6 packet's upper layer (or the whole input).</summary>
internal sealed class Icmpv6Target : WireTarget
{
    public override string Name => "icmpv6";

    public override string Covers => "Icmpv6Packet/Icmpv6Header, NdpOptionReader: accessors, options stay inside, checksum, round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> message = UpperLayer(Buffer.Place(input), out _, out _, out _, out Ipv6Address source, out Ipv6Address destination, out _);
        if (!Icmpv6Packet.TryCreate(message, out Icmpv6Packet icmp, out WireError error))
        {
            Check(error != WireError.None, "refused without a reason");
            return;
        }
        _ = (int)icmp.Type + icmp.Code + icmp.Checksum + icmp.RestOfHeader + icmp.Identifier + icmp.SequenceNumber + icmp.Mtu
            + (icmp.RouterFlag ? 1 : 0) + (icmp.SolicitedFlag ? 1 : 0) + (icmp.OverrideFlag ? 1 : 0) + icmp.Data.Length
            + (icmp.VerifyChecksum(source, destination) ? 1 : 0);
        _ = icmp.TargetAddress.Low;
        // Empty for messages other than NDP, whose fixed part TryCreate checked.
        Span<byte> options = icmp.NdpOptions;
        var reader = new NdpOptionReader(options);
        int walked = 0;
        while (reader.MoveNext())
        {
            walked += reader.Data.Length + 2;
            _ = reader.Type + reader.LinkLayerAddress.Value;
        }
        Check(walked <= options.Length, "options walked past the message");
        Check(reader.Error != WireError.None || walked == options.Length, "the walk stopped early without an error");
        if (!Icmpv6Header.TryParse(icmp, out Icmpv6Header header))
            return;
        byte[] emitted = new byte[header.BufferLength(icmp.Data.Length)];
        emitted.AsSpan().Fill(0xA5);
        icmp.Data.CopyTo(emitted.AsSpan(header.HeaderLength));
        header.EmitWithChecksum(emitted, source, destination);
        Check(Icmpv6Packet.TryCreate(emitted, out Icmpv6Packet again, out _) && again.VerifyChecksum(source, destination),
            "emitted message refused or its checksum wrong");
        Check(Icmpv6Header.TryParse(again, out Icmpv6Header reparsed)
            && reparsed with { Checksum = 0 } == header with { Checksum = 0 }, $"round trip: {header} became {reparsed}");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => IpPackets(source).Where(p => p.Length > 0 && p[0] >> 4 == 6);
}
