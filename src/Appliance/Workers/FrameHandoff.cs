using System.Runtime.InteropServices;

namespace XdpStack.Appliance.Workers;

/// <summary>A single-producer, single-consumer ring of frame copies, each addressed to one of the consumer's ports.</summary>
/// <remarks>
/// Frames cross workers (and come from control threads) only as copies: each worker's UMEM is its own,
/// so a descriptor cannot move to another worker's TX ring. The producer copies into a fixed slot and
/// publishes the tail with a release store; the consumer copies the slot into a frame of its UMEM and
/// publishes the head. No lock and no <c>Interlocked</c> on either side; several producers must
/// serialise among themselves (the control hand-off does, under a lock on the producer side only).
/// A full ring refuses the frame and the producer counts the drop.
/// </remarks>
internal sealed class FrameHandoff
{
    private readonly byte[] _slots;
    private readonly int[] _lengths;
    private readonly int[] _ports;
    private readonly int _slotSize;
    private readonly uint _mask;
    private Indexes _indexes;

    public FrameHandoff(int capacity, int slotSize)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two of at least 2");
        _slotSize = slotSize;
        _mask = (uint)capacity - 1;
        _slots = GC.AllocateUninitializedArray<byte>(checked(capacity * slotSize), pinned: true);
        _lengths = new int[capacity];
        _ports = new int[capacity];
    }

    public int Capacity => _lengths.Length;

    public int SlotSize => _slotSize;

    /// <summary>Frames waiting; exact only on the consumer's thread.</summary>
    public int Count => (int)(Volatile.Read(ref _indexes.Tail) - Volatile.Read(ref _indexes.Head));

    /// <summary>Producer: copies <paramref name="frame"/> for port <paramref name="port"/>; false when full or too long.</summary>
    public bool TryEnqueue(int port, ReadOnlySpan<byte> frame)
    {
        if (frame.Length > _slotSize)
            return false;
        uint tail = _indexes.Tail;
        if (tail - Volatile.Read(ref _indexes.Head) > _mask)
            return false;
        uint slot = tail & _mask;
        frame.CopyTo(_slots.AsSpan((int)slot * _slotSize, _slotSize));
        _lengths[slot] = frame.Length;
        _ports[slot] = port;
        Volatile.Write(ref _indexes.Tail, tail + 1);
        return true;
    }

    /// <summary>Consumer: the oldest frame and its port, without removing it.</summary>
    public bool TryPeek(out int port, out ReadOnlySpan<byte> frame)
    {
        uint head = _indexes.Head;
        if (head == Volatile.Read(ref _indexes.Tail))
        {
            port = 0;
            frame = default;
            return false;
        }
        uint slot = head & _mask;
        port = _ports[slot];
        frame = _slots.AsSpan((int)slot * _slotSize, _lengths[slot]);
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
