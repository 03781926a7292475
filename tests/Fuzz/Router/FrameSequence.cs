namespace XdpStack.Fuzz.Router;

/// <summary>One frame of a <see cref="FrameSequence"/>: which NIC receives it, how long the clock runs first, and where it lies in the input.</summary>
internal readonly record struct FrameRecord(bool SecondNic, int AdvanceMilliseconds, int Offset, int Length);

/// <summary>
/// The input format of the targets that feed frames to a stack: records of [control][length, 2 octets big-endian][frame],
/// so one input can carry the frames of a fragmented packet, or an ARP exchange and what follows it.
/// </summary>
/// <remarks>
/// Control bit 0 picks the NIC (0: nic 1, 1: nic 2); bits 1-7 advance the stack's clock by that many 100 ms before
/// the frame (up to 12.7 s, past the neighbour and reassembly timers' shortest delays). A length running past the input
/// takes what is left; at most <see cref="MaxFrames"/> records are read.
/// </remarks>
internal static class FrameSequence
{
    public const int MaxFrames = 16;

    public static int Parse(ReadOnlySpan<byte> input, Span<FrameRecord> records)
    {
        int count = 0, at = 0;
        while (count < records.Length && at + 3 <= input.Length)
        {
            byte control = input[at];
            int length = Math.Min((input[at + 1] << 8) | input[at + 2], input.Length - at - 3);
            records[count++] = new FrameRecord((control & 1) != 0, (control >> 1) * 100, at + 3, length);
            at += 3 + length;
        }
        return count;
    }

    public static byte[] Encode(params (bool SecondNic, int AdvanceTenths, byte[] Frame)[] frames)
    {
        var bytes = new List<byte>();
        foreach ((bool second, int tenths, byte[] frame) in frames)
        {
            bytes.Add((byte)((tenths << 1) | (second ? 1 : 0)));
            bytes.Add((byte)(frame.Length >> 8));
            bytes.Add((byte)frame.Length);
            bytes.AddRange(frame);
        }
        return [.. bytes];
    }

    public static byte[] One(byte[] frame, bool secondNic = false) => Encode((secondNic, 0, frame));
}
