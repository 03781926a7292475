using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>EthernetFrame and EthernetHeader (with 802.1Q tags): every accessor, and parse → emit → parse.</summary>
internal sealed class EthernetTarget : WireTarget
{
    public override string Name => "ethernet";

    public override string Covers => "EthernetFrame/EthernetHeader: accessors, VLAN tag, parse-emit-parse round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> bytes = Buffer.Place(input);
        if (!EthernetFrame.TryCreate(bytes, out EthernetFrame frame, out WireError error))
        {
            Check(error != WireError.None, "refused without a reason");
            return;
        }
        _ = frame.Destination.Value + frame.Source.Value + (ulong)frame.OuterEtherType + frame.TagControl + frame.VlanId
            + frame.Priority + (frame.DropEligible ? 1u : 0u) + (ulong)frame.EtherType + (ulong)frame.Payload.Length;
        Check(frame.HeaderLength + frame.Payload.Length == bytes.Length, "header and payload do not make up the frame");
        Check(EthernetHeader.TryParse(frame, out EthernetHeader header), "a checked frame did not parse");
        Check(header.HeaderLength == frame.HeaderLength, "parsed header length differs from the view's");

        byte[] emitted = new byte[bytes.Length];
        emitted.AsSpan().Fill(0xA5);
        header.Emit(emitted);
        frame.Payload.CopyTo(emitted.AsSpan(header.HeaderLength));
        Check(EthernetFrame.TryCreate(emitted, out EthernetFrame again, out _), "emitted header refused");
        Check(EthernetHeader.TryParse(again, out EthernetHeader reparsed) && reparsed == header, $"round trip: {header} became {reparsed}");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => source.Frames;
}
