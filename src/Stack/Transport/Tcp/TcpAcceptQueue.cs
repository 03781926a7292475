using System.Runtime.InteropServices;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>Accepted sockets from one worker to the application: a single-producer, single-consumer ring with release stores, like <see cref="TcpPipe"/>.</summary>
internal sealed class TcpAcceptQueue
{
    private readonly TcpSocket?[] _slots;
    private readonly int _mask;
    private Indexes _indexes;

    public TcpAcceptQueue(int capacity)
    {
        _slots = new TcpSocket?[capacity];
        _mask = capacity - 1;
    }

    public int Count => (int)(Volatile.Read(ref _indexes.Tail) - Volatile.Read(ref _indexes.Head));

    /// <summary>Worker: false when full.</summary>
    public bool TryEnqueue(TcpSocket socket)
    {
        long tail = _indexes.Tail;
        if (tail - Volatile.Read(ref _indexes.Head) > _mask)
            return false;
        _slots[(int)(tail & _mask)] = socket;
        Volatile.Write(ref _indexes.Tail, tail + 1);
        return true;
    }

    /// <summary>Application (one at a time): the oldest socket; false when none waits.</summary>
    public bool TryDequeue(out TcpSocket socket)
    {
        long head = _indexes.Head;
        if (head == Volatile.Read(ref _indexes.Tail))
        {
            socket = null!;
            return false;
        }
        int slot = (int)(head & _mask);
        socket = _slots[slot]!;
        _slots[slot] = null;
        Volatile.Write(ref _indexes.Head, head + 1);
        return true;
    }

    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Indexes
    {
        [FieldOffset(64)]
        public long Head;

        [FieldOffset(192)]
        public long Tail;
    }
}
