using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace XdpStack.Xdp;

/// <summary>The free frames of a <see cref="Umem"/>: a fixed-size stack of frame addresses.</summary>
/// <remarks>
/// Not thread-safe: one worker owns it. Addresses given to <see cref="Put(ulong)"/> are rounded down to
/// their frame start, so an RX descriptor address (which points past the headroom) can be
/// returned as it is. <see cref="Available"/> + frames out in rings and in the application
/// = <see cref="Capacity"/> at all times; tests check exactly that.
/// </remarks>
public sealed class FramePool
{
    private readonly ulong[] _stack;
    private readonly ulong _frameMask;
    private readonly ulong _limit;
    private int _count;

    /// <summary>Creates a pool holding every frame of an area of <paramref name="frameCount"/> frames.</summary>
    public FramePool(int frameCount, int frameSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frameCount);
        if (frameSize <= 0 || (frameSize & (frameSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(frameSize), frameSize, "frame size must be a power of two");
        _stack = new ulong[frameCount];
        _frameMask = ~(ulong)(frameSize - 1);
        _limit = (ulong)frameCount * (ulong)frameSize;
        // Highest address first so that TryGet hands out frame 0 first.
        for (int i = 0; i < frameCount; i++)
            _stack[i] = (ulong)(frameCount - 1 - i) * (ulong)frameSize;
        _count = frameCount;
    }

    /// <summary>Frames in the pool now.</summary>
    public int Available => _count;

    /// <summary>Frames the pool holds when all are home.</summary>
    public int Capacity => _stack.Length;

    /// <summary>Takes a free frame; false when none is left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(out ulong address)
    {
        int n = _count - 1;
        if (n < 0)
        {
            address = 0;
            return false;
        }
        address = _stack[n];
        _count = n;
        return true;
    }

    /// <summary>Takes up to <c>addresses.Length</c> frames; returns how many it wrote.</summary>
    public int TryGet(Span<ulong> addresses)
    {
        int n = Math.Min(addresses.Length, _count);
        int start = _count - n;
        _stack.AsSpan(start, n).CopyTo(addresses);
        _count = start;
        return n;
    }

    /// <summary>Returns a frame, given any address inside it.</summary>
    /// <exception cref="InvalidOperationException">More frames returned than exist (a double free), or an address outside the area.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Put(ulong address)
    {
        int n = _count;
        if ((uint)n >= (uint)_stack.Length || address >= _limit)
            ThrowBadPut(address);
        _stack[n] = address & _frameMask;
        _count = n + 1;
    }

    /// <summary>Returns several frames.</summary>
    public void Put(ReadOnlySpan<ulong> addresses)
    {
        foreach (ulong a in addresses)
            Put(a);
    }

    [DoesNotReturn]
    private void ThrowBadPut(ulong address) =>
        throw new InvalidOperationException(address >= _limit
            ? $"frame address 0x{address:x} is outside the UMEM ({_limit} bytes)"
            : $"frame pool already holds all {_stack.Length} frames: frame 0x{address:x} was returned twice");
}
