using System.Runtime.InteropServices;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>What an application asks of the worker that owns (or will own) a <see cref="TcpSocket"/>'s connection.</summary>
internal enum TcpCommand : byte
{
    /// <summary>Open the connection the socket describes (active open).</summary>
    Connect,

    /// <summary>The application wrote or read: move octets between the socket's pipes and the connection.</summary>
    Pump,

    /// <summary>Send a FIN once the written octets have gone into the connection.</summary>
    Shutdown,

    /// <summary>Shutdown, and drop whatever arrives from now on.</summary>
    Close,

    /// <summary>Reset the connection.</summary>
    Abort,
}

/// <summary>The hand-off from application threads to one worker: a single-consumer ring of (socket, command) that the worker drains at each poll.</summary>
/// <remarks>
/// Like the appliance's frame hand-off: producers serialise among themselves under <see cref="ProducerLock"/> (off the
/// worker), and publish with a release store of the tail; the worker reads with acquire loads and frees slots with a
/// release store of the head. The worker side takes no lock and uses no <c>Interlocked</c>. A full ring refuses the
/// command and the application tries again.
/// </remarks>
internal sealed class TcpCommandQueue
{
    private readonly TcpSocket?[] _sockets;
    private readonly TcpCommand[] _commands;
    private readonly int _mask;
    private Indexes _indexes;

    public TcpCommandQueue(int capacity)
    {
        _sockets = new TcpSocket?[capacity];
        _commands = new TcpCommand[capacity];
        _mask = capacity - 1;
    }

    /// <summary>Application threads hold it while they enqueue; the worker never takes it.</summary>
    public Lock ProducerLock { get; } = new();

    /// <summary>Producer, under <see cref="ProducerLock"/>: false when the ring is full.</summary>
    public bool TryEnqueue(TcpSocket socket, TcpCommand command)
    {
        long tail = _indexes.Tail;
        if (tail - Volatile.Read(ref _indexes.Head) > _mask)
            return false;
        int slot = (int)(tail & _mask);
        _sockets[slot] = socket;
        _commands[slot] = command;
        Volatile.Write(ref _indexes.Tail, tail + 1);
        return true;
    }

    /// <summary>Consumer (the worker): the oldest command, removed; false when none waits.</summary>
    public bool TryDequeue(out TcpSocket socket, out TcpCommand command)
    {
        long head = _indexes.Head;
        if (head == Volatile.Read(ref _indexes.Tail))
        {
            socket = null!;
            command = default;
            return false;
        }
        int slot = (int)(head & _mask);
        socket = _sockets[slot]!;
        command = _commands[slot];
        _sockets[slot] = null;
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
