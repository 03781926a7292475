using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>A TCP connection for code off the worker (tests, clients): connect, accept, read, write, shutdown and close, all awaitable, with backpressure.</summary>
/// <remarks>
/// <para>The connection itself lives on its worker and is touched only there. The application talks to it through two
/// single-producer, single-consumer byte pipes (<see cref="TcpPipe"/>) and a command hand-off the worker drains at
/// each poll (<see cref="TcpCommandQueue"/>): no lock on the worker, and the worker's side allocates nothing per
/// segment. What arrives is moved from the connection's receive buffer into the inbound pipe as soon as it is in
/// order, so the advertised window closes only when the application stops reading and the pipe is full.</para>
/// <para><see cref="WriteAsync"/> completes only once the worker has taken every octet into the connection's send
/// buffer; <see cref="ReadAsync"/> completes when data is there or the peer's FIN arrived (0). Errors (refused,
/// timed out, reset) surface as <see cref="TcpSocketException"/>. One reader and one writer at a time.</para>
/// <para>Waking the application follows <see cref="Udp.UdpEndpoint"/>: the worker releases a semaphore only when
/// it sees the waiting flag (one volatile read otherwise); a wake-up lost to that race is bounded by a 2 ms timer of
/// the application's, after which it looks again (and asks the worker to look again too). The reader and the writer
/// park separately (<see cref="Waiter"/>).</para>
/// </remarks>
public sealed partial class TcpSocket
{
    private readonly TcpProtocol _tcp;
    private readonly TcpPipe _inbound;
    private readonly TcpPipe _outbound;
    private readonly Waiter _readWaiter = new();
    private readonly Waiter _writeWaiter = new();
    private readonly Waiter _controlWaiter = new();

    // Published by the worker with volatile writes after the fields they cover; read by the application.
    private volatile int _state;
    private volatile int _error;
    private volatile bool _eof;
    private volatile bool _finSent;

    // Application side: set once a Pump command is queued and not yet drained (the worker clears it).
    private int _pumpQueued;
    private volatile bool _shutdown;

    // Worker side only.
    private TcpConnection? _connection;
    private bool _shutdownRequested;
    private bool _discardInput;
    private bool _rejected;   // no application took it: what arrives is dropped, not answered with a RST
    private byte[]? _leftover;
    private volatile int _leftoverRead;

    // The connect request: written by the application before the Connect command is queued (the queue's release store
    // publishes them), read by the worker.
    internal Nic? ConnectNic;
    internal IpAddress ConnectNextHop;
    internal MacAddress ConnectMac;

    internal TcpSocket(TcpProtocol tcp, int worker, IpAddress localAddress, ushort localPort, IpAddress remoteAddress, ushort remotePort)
    {
        _tcp = tcp;
        Worker = worker;
        LocalAddress = localAddress;
        LocalPort = localPort;
        RemoteAddress = remoteAddress;
        RemotePort = remotePort;
        int pipe = (int)Math.Max(2, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(tcp.Settings.ReceiveBufferSize, tcp.Settings.SendBufferSize)));
        _inbound = new TcpPipe(pipe);
        _outbound = new TcpPipe(pipe);
    }

    /// <summary>The worker that owns the connection.</summary>
    public int Worker { get; }

    public IpAddress LocalAddress { get; }

    /// <summary>Our port; for a connect, the ephemeral port the worker chose, once <see cref="TcpProtocol.ConnectAsync"/> completed.</summary>
    public ushort LocalPort { get; private set; }

    public IpAddress RemoteAddress { get; }

    public ushort RemotePort { get; }

    /// <summary>Why the connection failed or ended abnormally; <see cref="TcpError.None"/> so far.</summary>
    public TcpError Error => (TcpError)_error;

    /// <summary>True once the connection is established (and stays true after it ends).</summary>
    public bool Connected => _state >= (int)SocketState.Established;

    /// <summary>True once the connection is gone from the application's view: both sides closed (TIME_WAIT or CLOSED), reset, refused or timed out.</summary>
    public bool Ended => _state == (int)SocketState.Ended;

    /// <summary>Octets received and not yet read.</summary>
    public int Available => _inbound.Count + LeftoverCount;

    private int LeftoverCount => _state == (int)SocketState.Ended && _leftover is { } left ? left.Length - _leftoverRead : 0;

    /// <summary>Reads up to <paramref name="buffer"/>.Length octets; completes when some arrived (their count) or the peer closed its side (0).</summary>
    /// <exception cref="TcpSocketException">The connection was reset or timed out, with nothing left to read.</exception>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
            return 0;
        while (true)
        {
            int n = _inbound.Read(buffer.Span);
            if (n > 0)
            {
                // The pipe has room again: the worker may move what waits in the connection, and open the window.
                RequestPump();
                return n;
            }
            if (_eof || _state == (int)SocketState.Ended)
            {
                // The worker publishes the last octets before the end; look once more, then at what outlived the connection.
                n = _inbound.Read(buffer.Span);
                if (n > 0)
                    return n;
                n = ReadLeftover(buffer.Span);
                if (n > 0 || _eof || _error == (int)TcpError.None)
                    return n;
                throw new TcpSocketException(Error);
            }
            await WaitAsync(_readWaiter, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Queues <paramref name="data"/>; completes once the connection's send buffer took all of it (backpressure).</summary>
    /// <exception cref="TcpSocketException">The connection failed, or our side was shut down.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (_shutdown)
            throw new TcpSocketException(TcpError.None, "the socket was shut down for sending");
        long target = _outbound.Produced + data.Length;
        while (true)
        {
            ThrowIfFailed();
            if (!data.IsEmpty)
            {
                int n = _outbound.Write(data.Span);
                if (n > 0)
                {
                    data = data[n..];
                    RequestPump();
                }
            }
            if (data.IsEmpty && _outbound.Consumed >= target)
                return;
            if (_state == (int)SocketState.Ended)
                throw new TcpSocketException(Error == TcpError.None ? TcpError.ConnectionReset : Error);
            await WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes our side for sending (RFC 9293 §3.10.4): a FIN follows what was written; completes when the FIN is queued. Reading goes on.</summary>
    public async ValueTask ShutdownAsync(CancellationToken cancellationToken = default)
    {
        _shutdown = true;
        await PostAsync(TcpCommand.Shutdown, cancellationToken).ConfigureAwait(false);
        while (!_finSent && _state != (int)SocketState.Ended)
            await WaitAsync(_controlWaiter, cancellationToken).ConfigureAwait(false);
        ThrowIfFailed();
    }

    /// <summary>
    /// Closes the connection: a FIN after what was written, and it completes when both sides have closed (our FIN
    /// acknowledged and the peer's received: TIME_WAIT or CLOSED) or the connection failed. As Linux's <c>close()</c>:
    /// when octets that arrived were not read, or new ones arrive after this, they are lost and the peer gets a RST.
    /// </summary>
    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        _shutdown = true;
        await PostAsync(TcpCommand.Close, cancellationToken).ConfigureAwait(false);
        while (_state != (int)SocketState.Ended)
            await WaitAsync(_controlWaiter, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resets the connection (<c>&lt;RST&gt;</c> to the peer) and completes once the worker dropped it.</summary>
    public async ValueTask AbortAsync(CancellationToken cancellationToken = default)
    {
        _shutdown = true;
        await PostAsync(TcpCommand.Abort, cancellationToken).ConfigureAwait(false);
        while (_state != (int)SocketState.Ended)
            await WaitAsync(_controlWaiter, cancellationToken).ConfigureAwait(false);
    }

    public override string ToString() => $"tcp socket {LocalAddress}:{LocalPort} -> {RemoteAddress}:{RemotePort} w{Worker}";

    /// <summary>Completes when the connection is established; throws when it failed.</summary>
    internal async ValueTask WaitConnectedAsync(CancellationToken cancellationToken)
    {
        while (_state == (int)SocketState.Connecting)
            await WaitAsync(_controlWaiter, cancellationToken).ConfigureAwait(false);
        if (_state == (int)SocketState.Ended && _error != (int)TcpError.None)
            throw new TcpSocketException(Error);
    }

    internal ValueTask PostAsync(TcpCommand command, CancellationToken cancellationToken) =>
        _tcp.TryPost(this, command) ? ValueTask.CompletedTask : PostSlowAsync(command, cancellationToken);

    private async ValueTask PostSlowAsync(TcpCommand command, CancellationToken cancellationToken)
    {
        // The worker's hand-off is full: it drains at every poll, so a moment later there is room.
        while (!_tcp.TryPost(this, command))
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
    }

    // At most one Pump waits in the worker's hand-off per socket; the worker clears the flag before it pumps.
    private void RequestPump()
    {
        if (Interlocked.Exchange(ref _pumpQueued, 1) == 0 && !_tcp.TryPost(this, TcpCommand.Pump))
            Volatile.Write(ref _pumpQueued, 0);
    }

    private void ThrowIfFailed()
    {
        if (_state == (int)SocketState.Ended && _error != (int)TcpError.None)
            throw new TcpSocketException(Error);
    }

    private int ReadLeftover(Span<byte> destination)
    {
        if (_leftover is not { } left)
            return 0;
        int read = _leftoverRead;
        int n = Math.Min(destination.Length, left.Length - read);
        left.AsSpan(read, n).CopyTo(destination);
        _leftoverRead = read + n;
        return n;
    }

    // The reader parks on its own waiter, the writer on its own, and shutdown, close, abort and connect on a third, so a
    // close while a write still waits is woken as the write is (one semaphore release wakes one waiter). After a silent wait (the timer ended it) a
    // Pump may have been lost too (the worker clears the flag before it reads the pipes): ask the worker to look again.
    private ValueTask WaitAsync(CancellationToken cancellationToken) => WaitAsync(_writeWaiter, cancellationToken);

    private async ValueTask WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        if (await waiter.WaitAsync(cancellationToken).ConfigureAwait(false) && _state == (int)SocketState.Established)
        {
            Volatile.Write(ref _pumpQueued, 0);
            RequestPump();
        }
    }

    private enum SocketState
    {
        Connecting,
        Established,
        Ended,
    }
}
