using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>One TCP connection (gVisor <c>tcp.Endpoint</c>, Linux <c>tcp_sock</c>): its state, sequence variables, buffers and timers, owned by one worker.</summary>
/// <remarks>
/// <para>Every field is read and written only by the owning worker: the segments of the flow arrive on it
/// (RSS keeps a flow on one queue), and its timers run there (<see cref="NetworkStack.PollTimers"/>). No
/// lock, no <c>Interlocked</c>.</para>
/// <para>Objects and their buffers are pooled per worker: a closed connection's object goes back to its
/// worker's free list and its buffers to the buffer pool, so steady traffic allocates nothing. A connection
/// takes its buffers when it becomes ESTABLISHED and gives them back when it enters TIME_WAIT, so half-open
/// and TIME_WAIT connections hold only this object.</para>
/// <para>The application side (<see cref="Peek"/>, <see cref="Consume"/>, <see cref="Write"/>,
/// <see cref="Close"/>) is for <see cref="ITcpApplication"/> callbacks, which run on the same worker.</para>
/// </remarks>
public sealed partial class TcpConnection
{
    private TcpWorker _worker = null!;
    private TcpListener? _listener;
    private ITcpApplication? _application;
    private TcpByteRing? _rx;
    private TcpByteRing? _tx;

    // Out-of-order ranges [start, end) beyond RcvNxt, sorted, disjoint; their octets sit in _rx past its count. One
    // array of the three fields rather than three arrays: two array headers less per connection.
    private OutOfOrderRange[] _ooo = [];
    private int _oooCount;

    private struct OutOfOrderRange
    {
        public uint Start;
        public uint End;
        // When the range last grew, so that ACKs list the newest first (RFC 2018 §4).
        public uint Stamp;
    }

    // A FIN that came beyond RcvNxt (Linux keeps it with its segment in the out-of-order queue): taken when RcvNxt
    // reaches its sequence number, so the peer need not send it again.
    private bool _oooFin;
    private uint _oooFinSequence;

    internal TcpConnection()
    {
    }

    /// <summary>The connection's state.</summary>
    public TcpState State { get; private set; }

    internal TcpFlowKey Key { get; private set; }

    public IpAddress LocalAddress => Key.LocalAddress;

    public IpAddress RemoteAddress => Key.RemoteAddress;

    public ushort LocalPort => Key.LocalPort;

    public ushort RemotePort => Key.RemotePort;

    internal Nic Nic { get; private set; } = null!;

    internal bool IsIpv6 { get; private set; }

    internal MacAddress PeerMac { get; private set; }

    /// <summary>For the application: anything it keeps per connection (a parser state, a count of bytes still to send).</summary>
    public long ApplicationState;

    /// <summary>For the application: a second value it keeps per connection.</summary>
    public long ApplicationState2;

    /// <summary>For the application: an object it keeps per connection (the socket of <see cref="TcpSocket"/>).</summary>
    public object? ApplicationObject;

    /// <summary>Why the connection ended, while <see cref="ITcpApplication.OnClosed"/> runs; <see cref="TcpError.None"/> for an orderly close.</summary>
    public TcpError CloseError { get; private set; }

    /// <summary>True once the peer's FIN arrived in order: no more data will come.</summary>
    public bool PeerClosed { get; private set; }

    /// <summary>True once the application called <see cref="Close"/>.</summary>
    public bool Closing => _finQueued;

    /// <summary>Octets received in order and not yet consumed.</summary>
    public int Available => _rx?.Count ?? 0;

    /// <summary>Octets the send buffer can take now.</summary>
    public int SendSpace => _finQueued || _tx is null ? 0 : _tx.Free;

    /// <summary>The worker that owns the connection.</summary>
    public int Worker => _worker.Index;

    /// <summary>The owning worker's clock, in microseconds (monotonic, from an arbitrary origin).</summary>
    public long ClockMicroseconds => _worker.NowMicroseconds();

    /// <summary>A scratch buffer of the worker's, for applications that must see a request whole; valid until the callback returns.</summary>
    public Span<byte> Scratch => _worker.Scratch;

    /// <summary>The received octets up to the end of the buffer's array; call again after <see cref="Consume"/> for the rest.</summary>
    public ReadOnlySpan<byte> Peek() => _rx is null ? default : _rx.First;

    /// <summary>Copies up to <paramref name="destination"/>.Length received octets without consuming them; returns how many.</summary>
    public int PeekCopy(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, Available);
        _rx?.CopyTo(0, destination[..n]);
        return n;
    }

    /// <summary>Drops <paramref name="count"/> received octets, which opens the receive window by as much.</summary>
    public void Consume(int count)
    {
        if (_rx is null || count <= 0)
            return;
        _rx.Consume(Math.Min(count, _rx.Count));
    }

    /// <summary>Queues as much of <paramref name="data"/> as the send buffer takes; returns how many octets. They leave when the callback returns.</summary>
    public int Write(ReadOnlySpan<byte> data) => SendSpace == 0 ? 0 : _tx!.Append(data);

    /// <summary>
    /// The application is done with the connection (Linux's <c>close()</c>): a FIN follows the queued data, as
    /// <see cref="Shutdown"/>, and the connection is an orphan, which a peer that keeps its window shut cannot hold
    /// open (Linux's <c>tcp_orphan_retries</c>: the window probes give up once their interval reaches the maximum RTO)
    /// and which leaves FIN_WAIT_2 after 60 s without the peer's FIN (<c>tcp_fin_timeout</c>). Idempotent.
    /// </summary>
    /// <remarks>
    /// Received octets still unread are lost by the close, so the peer is told with a RST instead of a FIN (RFC 2525
    /// §2.17, Linux's <c>tcp_close</c>); an application that means to ignore them consumes them first. New data that
    /// arrives after the close is answered with a RST too (RFC 1122 §4.2.2.13, Linux's <c>TCPAbortOnData</c>).
    /// </remarks>
    public void Close()
    {
        if (Available > 0)
        {
            AbortOnClose();
            return;
        }
        Orphaned = true;
        Shutdown();
        // Closed after a shutdown whose FIN is acknowledged already: FIN_WAIT_2 now ends after the timeout (tcp_close).
        if (State == TcpState.FinWait2 && _closeDeadline == 0)
            SetCloseDeadline(_worker.NowMicroseconds());
    }

    /// <summary>A close that would lose received data: a RST to the peer, and the connection ends (Linux's <c>TCPAbortOnClose</c>).</summary>
    internal void AbortOnClose()
    {
        Nic.Stats.Add(_worker.Index, StatCounter.TcpAbortOnClose);
        Abort();
    }

    /// <summary>New data for an application that closed: a RST to the peer, and the connection ends (Linux's <c>TCPAbortOnData</c>).</summary>
    internal void AbortOnData()
    {
        Nic.Stats.Add(_worker.Index, StatCounter.TcpAbortOnData);
        Abort();
    }

    /// <summary>True once the application closed the connection with <see cref="Close"/> rather than only shutting down its sending side.</summary>
    public bool Orphaned { get; private set; }

    /// <summary>Closes our side for sending: a FIN follows the queued data (RFC 9293 §3.10.4); the application may go on reading, and FIN_WAIT_2 lasts until the peer's FIN. Idempotent.</summary>
    public void Shutdown()
    {
        if (_finQueued)
            return;
        switch (State)
        {
            case TcpState.SynReceived:
            case TcpState.Established:
                _finQueued = true;
                State = TcpState.FinWait1;
                break;
            case TcpState.CloseWait:
                _finQueued = true;
                State = TcpState.LastAck;
                break;
        }
    }

    public override string ToString() => $"tcp {LocalAddress}:{LocalPort} <-> {RemoteAddress}:{RemotePort} {State}";
}
