namespace XdpStack.Stack.Link;

/// <summary>A batch of frames lying in memory the link endpoint owns (a UMEM, or an arena in tests), handed to the stack by one worker.</summary>
/// <remarks>
/// The stack reads and may rewrite frames in place, but must not keep a span past the call it was
/// given the batch in: the link reuses the memory as soon as the call returns. <see cref="Worker"/>
/// names the receiving worker (queue), which picks the per-worker counters and scratch space, so
/// two workers never share a cache line on the receive path.
/// </remarks>
public readonly ref struct FrameBatch
{
    public FrameBatch(Span<byte> memory, Span<Frame> frames, int worker)
    {
        Memory = memory;
        Frames = frames;
        Worker = worker;
    }

    /// <summary>The memory every <see cref="Frame.Offset"/> points into.</summary>
    public Span<byte> Memory { get; }

    /// <summary>The frame descriptors of this batch.</summary>
    public Span<Frame> Frames { get; }

    /// <summary>Index of the worker that received this batch, from 0 to the stack's worker count minus one.</summary>
    public int Worker { get; }

    public int Count => Frames.Length;

    /// <summary>The bytes of frame <paramref name="index"/>, at its current length.</summary>
    public Span<byte> this[int index]
    {
        get
        {
            ref Frame f = ref Frames[index];
            return Memory.Slice(f.Offset, f.Length);
        }
    }
}
