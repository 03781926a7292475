using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>ArpPacket and ArpHeader: every accessor, and parse → emit → parse.</summary>
internal sealed class ArpTarget : WireTarget
{
    public override string Name => "arp";

    public override string Covers => "ArpPacket/ArpHeader: accessors, parse-emit-parse round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> bytes = Buffer.Place(input);
        if (!ArpPacket.TryCreate(bytes, out ArpPacket arp, out WireError error))
        {
            Check(error != WireError.None, "refused without a reason");
            return;
        }
        _ = (ulong)arp.Operation + arp.SenderHardwareAddress.Value + arp.SenderProtocolAddress.Value
            + arp.TargetHardwareAddress.Value + arp.TargetProtocolAddress.Value;
        if (!ArpHeader.TryParse(arp, out ArpHeader header))
            return;
        byte[] emitted = new byte[header.BufferLength];
        emitted.AsSpan().Fill(0xA5);
        header.Emit(emitted);
        Check(ArpPacket.TryCreate(emitted, out ArpPacket again, out _), "emitted packet refused");
        Check(ArpHeader.TryParse(again, out ArpHeader reparsed) && reparsed == header, $"round trip: {header} became {reparsed}");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source)
    {
        foreach (byte[] frame in source.Frames)
        {
            if (EthernetFrame.TryCreate((byte[])frame.Clone(), out EthernetFrame ethernet, out _) && ethernet.EtherType == EtherType.Arp)
                yield return ethernet.Payload.ToArray();
        }
    }
}
