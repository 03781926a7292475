using System.Runtime.InteropServices;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>A single-producer, single-consumer byte ring between a <see cref="TcpSocket"/>'s application and the worker that owns its connection.</summary>
/// <remarks>
/// One side writes, the other reads: the producer publishes what it copied in by writing the tail with
/// <see cref="Volatile.Write(ref long, long)"/>, the consumer frees space the same way with the head. Each index has
/// one writer, so neither side locks or uses <c>Interlocked</c>; the indexes count octets since the start and never
/// wrap in practice (2^63), so <see cref="Consumed"/> doubles as the running total a writer waits on.
/// </remarks>
internal sealed class TcpPipe
{
    private readonly byte[] _buffer;
    private readonly int _mask;
    private Indexes _indexes;

    public TcpPipe(int capacity)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two of at least 2");
        _buffer = new byte[capacity];
        _mask = capacity - 1;
    }

    public int Capacity => _buffer.Length;

    /// <summary>Octets the consumer has taken since the start.</summary>
    public long Consumed => Volatile.Read(ref _indexes.Head);

    /// <summary>Octets the producer has put in since the start.</summary>
    public long Produced => Volatile.Read(ref _indexes.Tail);

    /// <summary>Octets waiting; exact on either side for its own index, a moment's view of the other's.</summary>
    public int Count => (int)(Produced - Consumed);

    /// <summary>Producer: copies in as much of <paramref name="data"/> as fits; returns how many octets.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        long tail = _indexes.Tail;
        int free = _buffer.Length - (int)(tail - Volatile.Read(ref _indexes.Head));
        int n = Math.Min(free, data.Length);
        if (n == 0)
            return 0;
        int start = (int)(tail & _mask);
        int first = Math.Min(n, _buffer.Length - start);
        data[..first].CopyTo(_buffer.AsSpan(start));
        data[first..n].CopyTo(_buffer);
        Volatile.Write(ref _indexes.Tail, tail + n);
        return n;
    }

    /// <summary>Consumer: the waiting octets up to the end of the array; <see cref="Advance"/> then frees what was used.</summary>
    public ReadOnlySpan<byte> Peek()
    {
        long head = _indexes.Head;
        int count = (int)(Volatile.Read(ref _indexes.Tail) - head);
        int start = (int)(head & _mask);
        return _buffer.AsSpan(start, Math.Min(count, _buffer.Length - start));
    }

    /// <summary>Consumer: frees <paramref name="count"/> octets returned by <see cref="Peek"/>.</summary>
    public void Advance(int count) => Volatile.Write(ref _indexes.Head, _indexes.Head + count);

    /// <summary>Consumer: copies out up to <paramref name="destination"/>.Length octets; returns how many.</summary>
    public int Read(Span<byte> destination)
    {
        int copied = 0;
        while (copied < destination.Length)
        {
            ReadOnlySpan<byte> waiting = Peek();
            if (waiting.IsEmpty)
                break;
            int n = Math.Min(waiting.Length, destination.Length - copied);
            waiting[..n].CopyTo(destination[copied..]);
            Advance(n);
            copied += n;
        }
        return copied;
    }

    // Head and tail on their own cache lines, so the two threads do not false-share.
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Indexes
    {
        [FieldOffset(64)]
        public long Head;

        [FieldOffset(192)]
        public long Tail;
    }
}
