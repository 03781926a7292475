using XdpStack.Appliance.Workers;

namespace XdpStack.Fuzz.Targets;

/// <summary><c>xdpstack reflect</c>'s in-place turnaround (FrameReflector, which reads through refs): reflecting twice gives the frame back.</summary>
internal sealed class ReflectorTarget : WireTarget
{
    public override string Name => "reflector";

    public override string Covers => "FrameReflector.Reflect L2 and L3 on any frame: no read past it, twice = identity";

    public override void Run(ReadOnlySpan<byte> input)
    {
        foreach (SwapMode mode in new[] { SwapMode.L2, SwapMode.L3 })
        {
            Span<byte> frame = Buffer.Place(input);
            bool reflected = FrameReflector.Reflect(frame, mode);
            Check(reflected == (input.Length >= FrameReflector.EthernetHeaderLength), $"{mode}: refused a frame of {input.Length} octets, or took a shorter one");
            if (!reflected)
                continue;
            FrameReflector.Reflect(frame, mode);
            Check(frame.SequenceEqual(input), $"{mode}: reflecting twice changed the frame");
        }
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => source.Frames;
}
