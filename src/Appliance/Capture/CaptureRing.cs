using System.Runtime.InteropServices;

namespace XdpStack.Appliance.Capture;

/// <summary>A bounded single-producer, single-consumer ring of captured frame copies: one worker writes, the capture's control thread reads.</summary>
/// <remarks>
/// Fixed slots of the snap length, allocated when the capture starts, so the worker only copies: no allocation, no
/// lock, no <c>Interlocked</c>. The producer publishes the tail with a release store, the consumer the head; a full
/// ring refuses the frame and the worker counts a capture drop instead of waiting (the data path never waits for a
/// capture). Same shape as <see cref="Workers.FrameHandoff"/>, with a timestamp, a direction and the original
/// length per slot.
/// </remarks>
internal sealed class CaptureRing
{
    private readonly byte[] _slots;
    private readonly int[] _captured;
    private readonly int[] _lengths;
    private readonly long[] _timestamps;
    private readonly CaptureDirection[] _directions;
    private readonly int _slotSize;
    private readonly uint _mask;
    private Indexes _indexes;

    /// <param name="capacity">Slots, a power of two of at least 2.</param>
    /// <param name="slotSize">Bytes kept of each frame (the snap length).</param>
    public CaptureRing(int capacity, int slotSize)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two of at least 2");
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, 1);
        _slotSize = slotSize;
        _mask = (uint)capacity - 1;
        _slots = GC.AllocateUninitializedArray<byte>(checked(capacity * slotSize));
        _captured = new int[capacity];
        _lengths = new int[capacity];
        _timestamps = new long[capacity];
        _directions = new CaptureDirection[capacity];
    }

    public int Capacity => _lengths.Length;

    public int SlotSize => _slotSize;

    /// <summary>Frames waiting; exact only on the consumer's thread.</summary>
    public int Count => (int)(Volatile.Read(ref _indexes.Tail) - Volatile.Read(ref _indexes.Head));

    /// <summary>Producer: copies up to a slot's worth of <paramref name="frame"/>; false when the ring is full.</summary>
    public bool TryWrite(ReadOnlySpan<byte> frame, long timestamp, CaptureDirection direction)
    {
        if (!TryReserve(out Span<byte> slot))
            return false;
        int captured = Math.Min(frame.Length, _slotSize);
        frame[..captured].CopyTo(slot);
        Commit(captured, frame.Length, timestamp, direction);
        return true;
    }

    /// <summary>Producer: the next free slot to fill (a frame in pieces: a multi-buffer chain), or false when the ring is full.</summary>
    public bool TryReserve(out Span<byte> slot)
    {
        uint tail = _indexes.Tail;
        if (tail - Volatile.Read(ref _indexes.Head) > _mask)
        {
            slot = default;
            return false;
        }
        slot = _slots.AsSpan((int)(tail & _mask) * _slotSize, _slotSize);
        return true;
    }

    /// <summary>Producer: publishes the slot <see cref="TryReserve"/> gave, holding <paramref name="captured"/> bytes of a <paramref name="length"/>-byte frame.</summary>
    public void Commit(int captured, int length, long timestamp, CaptureDirection direction)
    {
        uint tail = _indexes.Tail;
        uint slot = tail & _mask;
        _captured[slot] = Math.Min(captured, _slotSize);
        _lengths[slot] = length;
        _timestamps[slot] = timestamp;
        _directions[slot] = direction;
        Volatile.Write(ref _indexes.Tail, tail + 1);
    }

    /// <summary>Consumer: the timestamp of the oldest frame, or false when the ring is empty.</summary>
    public bool TryPeekTimestamp(out long timestamp)
    {
        uint head = _indexes.Head;
        if (head == Volatile.Read(ref _indexes.Tail))
        {
            timestamp = 0;
            return false;
        }
        timestamp = _timestamps[head & _mask];
        return true;
    }

    /// <summary>Consumer: the oldest frame, without removing it; <paramref name="length"/> is its length before it was cut to the slot.</summary>
    public bool TryPeek(out ReadOnlySpan<byte> frame, out int length, out long timestamp, out CaptureDirection direction)
    {
        uint head = _indexes.Head;
        if (head == Volatile.Read(ref _indexes.Tail))
        {
            frame = default;
            length = 0;
            timestamp = 0;
            direction = default;
            return false;
        }
        uint slot = head & _mask;
        frame = _slots.AsSpan((int)slot * _slotSize, _captured[slot]);
        length = _lengths[slot];
        timestamp = _timestamps[slot];
        direction = _directions[slot];
        return true;
    }

    /// <summary>Consumer: removes the frame <see cref="TryPeek"/> returned, handing its slot back to the producer.</summary>
    public void Advance() => Volatile.Write(ref _indexes.Head, _indexes.Head + 1);

    // Head and tail on separate cache lines, so producer and consumer do not false-share.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Indexes
    {
        [FieldOffset(64)]
        public uint Head;

        [FieldOffset(128)]
        public uint Tail;
    }
}
