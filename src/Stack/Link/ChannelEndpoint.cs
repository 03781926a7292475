using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Link;

/// <summary>An in-memory link endpoint for tests (gVisor <c>channel.Endpoint</c>): inject frames as if received, read back what the stack sent.</summary>
/// <remarks>
/// Each worker has its own receive arena, so tests can inject from several threads at once as
/// long as each thread uses its own worker index. Sent frames, in-place replies and
/// <see cref="WriteFrame"/> copies alike, go into one bounded ring of preallocated slots guarded
/// by a lock: that lock belongs to this test double, standing in for a device's TX ring, not to
/// the stack. When the ring is full further frames are counted in <see cref="Dropped"/>.
/// </remarks>
public sealed class ChannelEndpoint : ILinkEndpoint
{
    private readonly byte[][] _arenas;
    private readonly Frame[][] _frames;
    private readonly byte[][] _outbound;
    private readonly int[] _outboundLength;
    private readonly Lock _outboundLock = new();
    private readonly int _frameSize;
    private INetworkDispatcher? _dispatcher;
    private int _head;
    private int _count;
    private long _dropped;
    private long _written;

    public ChannelEndpoint(MacAddress linkAddress, int mtu = 1500, LinkCapabilities capabilities = LinkCapabilities.ResolutionRequired,
        int workers = 1, int batchCapacity = 256, int outboundCapacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCapacity, 1);
        LinkAddress = linkAddress;
        Mtu = mtu;
        Capabilities = capabilities;
        // Room for the Ethernet header and one VLAN tag around an MTU-sized packet.
        _frameSize = mtu + 18;
        _arenas = new byte[workers][];
        _frames = new Frame[workers][];
        for (int w = 0; w < workers; w++)
        {
            _arenas[w] = new byte[_frameSize * batchCapacity];
            _frames[w] = new Frame[batchCapacity];
        }
        _outbound = new byte[outboundCapacity][];
        _outboundLength = new int[outboundCapacity];
        for (int i = 0; i < outboundCapacity; i++)
            _outbound[i] = new byte[_frameSize];
    }

    public int Mtu { get; }

    public MacAddress LinkAddress { get; }

    public LinkCapabilities Capabilities { get; }

    public bool IsAttached => Volatile.Read(ref _dispatcher) is not null;

    /// <summary>Number of frames the stack wrote that are waiting to be read.</summary>
    public int OutboundCount
    {
        get
        {
            lock (_outboundLock)
                return _count;
        }
    }

    /// <summary>Frames lost because the outbound ring was full, or too large for a slot.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Frames accepted for sending since creation.</summary>
    public long Written => Interlocked.Read(ref _written);

    public void Attach(INetworkDispatcher? dispatcher) => Volatile.Write(ref _dispatcher, dispatcher);

    /// <summary>Delivers one frame on <paramref name="worker"/>, as a batch of one.</summary>
    public void InjectInbound(ReadOnlySpan<byte> frame, int worker = 0)
    {
        byte[] arena = _arenas[worker];
        Frame[] frames = _frames[worker];
        frame.CopyTo(arena);
        frames[0] = new Frame(0, frame.Length);
        Deliver(worker, 1);
    }

    /// <summary>Delivers <paramref name="count"/> copies of <paramref name="frame"/> as one batch on <paramref name="worker"/>.</summary>
    public void InjectInboundRepeated(ReadOnlySpan<byte> frame, int count, int worker = 0)
    {
        byte[] arena = _arenas[worker];
        Frame[] frames = _frames[worker];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, frames.Length);
        for (int i = 0; i < count; i++)
        {
            frame.CopyTo(arena.AsSpan(i * _frameSize));
            frames[i] = new Frame(i * _frameSize, frame.Length);
        }
        Deliver(worker, count);
    }

    /// <summary>Delivers the given frames as one batch on <paramref name="worker"/>.</summary>
    public void InjectInboundBatch(IReadOnlyList<byte[]> batch, int worker = 0)
    {
        byte[] arena = _arenas[worker];
        Frame[] frames = _frames[worker];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch.Count, frames.Length);
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].CopyTo(arena.AsSpan(i * _frameSize));
            frames[i] = new Frame(i * _frameSize, batch[i].Length);
        }
        Deliver(worker, batch.Count);
    }

    public bool WriteFrame(int worker, ReadOnlySpan<byte> frame)
    {
        if (frame.Length > _frameSize)
        {
            Interlocked.Increment(ref _dropped);
            return false;
        }
        lock (_outboundLock)
        {
            if (_count == _outbound.Length)
            {
                _dropped++;
                return false;
            }
            int slot = (_head + _count) % _outbound.Length;
            frame.CopyTo(_outbound[slot]);
            _outboundLength[slot] = frame.Length;
            _count++;
            _written++;
            return true;
        }
    }

    /// <summary>Takes the oldest sent frame, or returns null when none is waiting.</summary>
    public byte[]? Read()
    {
        lock (_outboundLock)
        {
            if (_count == 0)
                return null;
            byte[] copy = _outbound[_head].AsSpan(0, _outboundLength[_head]).ToArray();
            _head = (_head + 1) % _outbound.Length;
            _count--;
            return copy;
        }
    }

    /// <summary>Copies the oldest sent frame into <paramref name="destination"/> without allocating; -1 when none is waiting.</summary>
    public int Read(Span<byte> destination)
    {
        lock (_outboundLock)
        {
            if (_count == 0)
                return -1;
            int length = _outboundLength[_head];
            _outbound[_head].AsSpan(0, length).CopyTo(destination);
            _head = (_head + 1) % _outbound.Length;
            _count--;
            return length;
        }
    }

    /// <summary>Takes every sent frame waiting, oldest first.</summary>
    public List<byte[]> ReadAll()
    {
        var all = new List<byte[]>();
        while (Read() is { } frame)
            all.Add(frame);
        return all;
    }

    /// <summary>Discards every sent frame waiting.</summary>
    public void Clear()
    {
        lock (_outboundLock)
        {
            _head = 0;
            _count = 0;
        }
    }

    private void Deliver(int worker, int count)
    {
        INetworkDispatcher? dispatcher = Volatile.Read(ref _dispatcher);
        if (dispatcher is null)
            return;
        Span<Frame> frames = _frames[worker].AsSpan(0, count);
        dispatcher.DeliverNetworkPackets(new FrameBatch(_arenas[worker], frames, worker));
        // The device's part of the contract: replies written in place go out of this endpoint.
        foreach (ref Frame f in frames)
        {
            if (f.Action == FrameAction.Transmit)
                WriteFrame(worker, _arenas[worker].AsSpan(f.Offset, f.Length));
        }
    }
}
