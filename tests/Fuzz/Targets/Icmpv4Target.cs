using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>Icmpv4Packet and Icmpv4Header over an IPv4 packet's payload (or the whole input): accessors, checksum, round trip.</summary>
internal sealed class Icmpv4Target : WireTarget
{
    public override string Name => "icmpv4";

    public override string Covers => "Icmpv4Packet/Icmpv4Header: accessors, checksum, round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> message = UpperLayer(Buffer.Place(input), out _, out _, out _, out _, out _, out _);
        if (!Icmpv4Packet.TryCreate(message, out Icmpv4Packet icmp, out WireError error))
        {
            Check(error != WireError.None, "refused without a reason");
            return;
        }
        _ = (int)icmp.Type + icmp.Code + icmp.Checksum + icmp.RestOfHeader + icmp.Identifier + icmp.SequenceNumber + icmp.NextHopMtu
            + icmp.Pointer + icmp.Data.Length + (icmp.VerifyChecksum() ? 1 : 0);
        if (!Icmpv4Header.TryParse(icmp, out Icmpv4Header header))
            return;
        byte[] emitted = new byte[header.BufferLength(icmp.Data.Length)];
        emitted.AsSpan().Fill(0xA5);
        icmp.Data.CopyTo(emitted.AsSpan(header.HeaderLength));
        header.EmitWithChecksum(emitted);
        Check(Icmpv4Packet.TryCreate(emitted, out Icmpv4Packet again, out _) && again.VerifyChecksum(), "emitted message refused or its checksum wrong");
        Check(Icmpv4Header.TryParse(again, out Icmpv4Header reparsed)
            && reparsed with { Checksum = 0 } == header with { Checksum = 0 }, $"round trip: {header} became {reparsed}");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => IpPackets(source).Where(p => p.Length > 9 && p[0] >> 4 == 4 && p[9] == 1);
}
