using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Stack.Tests.FastPath;

// Runs frames through either family's fast path the way the tests of both need it.
internal static class FastPathRuns
{
    // Forwards one frame lying 32 bytes into a larger buffer and returns the verdict, the egress and the frame as it
    // is afterwards (at its possibly trimmed length); checks that the count returned agrees with the verdict.
    public static (ForwardVerdict Verdict, int Egress, byte[] Output) One(FastForward forward, NicId ingress, byte[] frame)
    {
        byte[] memory = new byte[frame.Length + 64];
        frame.CopyTo(memory, 32);
        Frame[] frames = [new Frame(32, frame.Length)];
        var verdicts = new ForwardVerdict[1];
        int[] egress = new int[1];
        int forwarded = forward(ingress, memory, frames, verdicts, egress);
        Assert.Equal(verdicts[0] == ForwardVerdict.Forward ? 1 : 0, forwarded);
        return (verdicts[0], egress[0], memory.AsSpan(32, frames[0].Length).ToArray());
    }

    // Forwards a batch of count copies of frame once to warm up (JIT, first-call statics), then a fresh batch again,
    // and returns what this thread allocated during that second call and how many frames it forwarded.
    public static (long Allocated, int Forwarded) Batch(FastForward forward, NicId ingress, byte[] frame, int count)
    {
        byte[] memory = new byte[count * 128];
        var frames = new Frame[count];
        var verdicts = new ForwardVerdict[count];
        int[] egress = new int[count];
        void Fill()
        {
            for (int i = 0; i < count; i++)
            {
                frame.CopyTo(memory, i * 128);
                frames[i] = new Frame(i * 128, frame.Length);
            }
        }
        Fill();
        forward(ingress, memory, frames, verdicts, egress);
        Fill();
        int forwarded = 0;
        long allocated = AllocationWindow.Measure(() => forwarded = forward(ingress, memory, frames, verdicts, egress));
        return (allocated, forwarded);
    }
}
