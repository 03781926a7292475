namespace XdpStack.Stack.Transport.Tcp;

/// <summary>A listening port whose connections are handed to the application as <see cref="TcpSocket"/>s by <see cref="AcceptAsync"/>.</summary>
/// <remarks>
/// Each worker queues the connections it established in its own single-producer ring (<see cref="TcpAcceptQueue"/>),
/// so accepting takes no lock on the worker; when a worker's ring is full (Linux's accept queue, <c>somaxconn</c>),
/// the new connection is closed at once. Wake-ups follow <see cref="TcpSocket"/>'s scheme. One acceptor at a time.
/// </remarks>
public sealed class TcpSocketListener
{
    private static readonly TimeSpan s_missedWakeupBound = TimeSpan.FromMilliseconds(2);

    private readonly TcpAcceptQueue[] _queues;
    private readonly SemaphoreSlim _signal = new(0);
    private volatile bool _waiting;
    private int _next;

    internal TcpSocketListener(TcpProtocol tcp, int workers, int backlog)
    {
        Tcp = tcp;
        int capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, backlog));
        _queues = new TcpAcceptQueue[workers];
        for (int w = 0; w < workers; w++)
            _queues[w] = new TcpAcceptQueue(capacity);
    }

    internal TcpProtocol Tcp { get; }

    /// <summary>The stack's listener behind it (port, address, backlog).</summary>
    public TcpListener Listener { get; internal set; } = null!;

    /// <summary>Completes with the next established connection.</summary>
    public async ValueTask<TcpSocket> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            for (int i = 0; i < _queues.Length; i++)
            {
                int w = (_next + i) % _queues.Length;
                if (_queues[w].TryDequeue(out TcpSocket socket))
                {
                    _next = (w + 1) % _queues.Length;
                    return socket;
                }
            }
            _waiting = true;
            await _signal.WaitAsync(s_missedWakeupBound, cancellationToken).ConfigureAwait(false);
            _waiting = false;
        }
    }

    /// <summary>Stops listening: new SYNs get RST; accepted connections and those still queued run on.</summary>
    public bool Stop() => Tcp.StopListening(Listener);

    /// <summary>Worker: queues an accepted socket; false when the worker's queue is full.</summary>
    internal bool TryQueue(int worker, TcpSocket socket)
    {
        if (!_queues[worker].TryEnqueue(socket))
            return false;
        if (_waiting)
            WakeParked();
        return true;
    }

    // Only while the acceptor is parked (excluded from the worker-path IL scan by name, as TcpSocket.WakeParked).
    private void WakeParked()
    {
        _waiting = false;
        _signal.Release();
    }
}
