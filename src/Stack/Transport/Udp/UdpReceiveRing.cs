using System.Runtime.InteropServices;

namespace XdpStack.Stack.Transport.Udp;

/// <summary>A single-producer, single-consumer ring of copied datagrams with their metadata, in slots allocated once.</summary>
/// <remarks>
/// One worker produces, the application consumes. The producer publishes a slot by writing the
/// tail with <see cref="Volatile.Write(ref long, long)"/> after filling it; the consumer frees it
/// by writing the head the same way after copying it out. Each index has one writer, so no lock
/// or interlocked operation is needed, and the two indexes sit on separate cache lines.
/// </remarks>
internal sealed class UdpReceiveRing
{
    private readonly byte[][] _slots;
    private readonly UdpDatagramInfo[] _infos;
    private readonly int _mask;
    private IndexPair _indexes;

    public UdpReceiveRing(int capacity, int slotBytes)
    {
        if (capacity <= 0 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentException("capacity must be a power of two", nameof(capacity));
        _slots = new byte[capacity][];
        for (int i = 0; i < capacity; i++)
            _slots[i] = new byte[slotBytes];
        _infos = new UdpDatagramInfo[capacity];
        _mask = capacity - 1;
    }

    /// <summary>Datagrams waiting now (an estimate while the producer runs).</summary>
    public int Count => (int)(Volatile.Read(ref _indexes.Tail) - Volatile.Read(ref _indexes.Head));

    /// <summary>Producer side: copies a datagram in; false when the ring is full or the payload exceeds a slot.</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> payload, in UdpDatagramInfo info)
    {
        long tail = _indexes.Tail;
        if (tail - Volatile.Read(ref _indexes.Head) > _mask)
            return false;
        int index = (int)(tail & _mask);
        byte[] slot = _slots[index];
        if (payload.Length > slot.Length)
            return false;
        payload.CopyTo(slot);
        _infos[index] = info;
        Volatile.Write(ref _indexes.Tail, tail + 1);
        return true;
    }

    /// <summary>Consumer side: copies the oldest datagram out (truncated to <paramref name="destination"/>); false when empty.</summary>
    public bool TryDequeue(Span<byte> destination, out UdpDatagramInfo info, out int copied)
    {
        long head = _indexes.Head;
        if (head == Volatile.Read(ref _indexes.Tail))
        {
            info = default;
            copied = 0;
            return false;
        }
        int index = (int)(head & _mask);
        info = _infos[index];
        copied = Math.Min(info.Length, destination.Length);
        _slots[index].AsSpan(0, copied).CopyTo(destination);
        Volatile.Write(ref _indexes.Head, head + 1);
        return true;
    }

    // Head and tail on their own cache lines (128 bytes apart for adjacent-line prefetch).
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct IndexPair
    {
        [FieldOffset(64)]
        public long Head;

        [FieldOffset(192)]
        public long Tail;
    }
}
