using System.Buffers.Binary;
using XdpStack.Stack.Tests.Wire;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>The SIMD Internet checksum against the scalar path and a plain RFC 1071 sum, with the data ending at a guard page.</summary>
/// <remarks>The first 4 input octets are the initial sum; the rest is the data, so every length class and alignment is reached.</remarks>
internal sealed class ChecksumTarget : WireTarget
{
    public override string Name => "checksum";

    public override string Covers => "Checksum.Sum (vector paths) = SumScalar = RFC 1071 reference; no read past the data";

    public override int MaxLength => 9100;

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 4)
            return;
        uint initial = BinaryPrimitives.ReadUInt32BigEndian(input);
        Span<byte> data = Buffer.Place(input[4..]);
        ushort vector = Checksum.Fold(Checksum.Sum(data, initial));
        ushort scalar = Checksum.Fold(Checksum.SumScalar(data, initial));
        ushort reference = ChecksumReference.FoldedSum(data, initial);
        // One's complement has two zeros (0x0000 and 0xFFFF); the three may pick either.
        Check(vector % 0xFFFF == reference % 0xFFFF, $"vector sum {vector:x4}, reference {reference:x4} over {data.Length} octets");
        Check(scalar % 0xFFFF == reference % 0xFFFF, $"scalar sum {scalar:x4}, reference {reference:x4} over {data.Length} octets");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => source.Frames.Select(frame => (byte[])[0, 0, 0, 0, .. frame]);
}
