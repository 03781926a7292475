namespace XdpStack.Stack.Transport.Tcp;

/// <summary>A passive open (LISTEN, RFC 9293 §3.3.2) on a port of one local address or of all of them, whose connections run <see cref="Application"/>.</summary>
/// <remarks>
/// Immutable once registered, apart from the per-worker half-open counts, each written only by its worker.
/// A connection is handed to <see cref="Application"/> when its handshake completes on the worker that
/// received its SYN; SYN-RECEIVED connections count against <see cref="Backlog"/> per worker, as Linux
/// counts its request sockets per listener; beyond it SYNs get cookies (<see cref="SynCookies"/>) or are dropped.
/// </remarks>
public sealed class TcpListener
{
    // One counter per worker, 64 bytes apart, written only by that worker.
    private const int Stride = 16;

    // Linux's TCP_SYNCOOKIE_VALID: ACKs are checked for cookies until 2 minutes after the last one was sent.
    private const long CookieValidUs = 120_000_000;

    private readonly int[] _halfOpen;

    // When each worker last sent a cookie, in microseconds of the stack's clock; 8 longs (64 bytes) apart.
    private readonly long[] _lastCookieUs;

    internal TcpListener(ushort port, IpAddress? localAddress, ITcpApplication application, int backlog, TcpSynCookieMode synCookies, TcpKeepAlive? keepAlive, int workers,
        TcpCongestionControl congestionControl)
    {
        CongestionControl = congestionControl;
        KeepAlive = keepAlive;
        Port = port;
        LocalAddress = localAddress;
        Application = application;
        Backlog = backlog;
        SynCookies = synCookies;
        _halfOpen = new int[workers * Stride];
        _lastCookieUs = new long[workers * Stride / 2];
        for (int w = 0; w < workers; w++)
            _lastCookieUs[w * Stride / 2] = long.MinValue / 2;
    }

    public ushort Port { get; }

    /// <summary>The one local address it listens on; null for every address of both families, an unspecified address for every address of its family.</summary>
    public IpAddress? LocalAddress { get; }

    public ITcpApplication Application { get; }

    /// <summary>The most SYN-RECEIVED connections per worker; further SYNs are dropped and counted (<see cref="StatCounter.TcpListenDrops"/>).</summary>
    public int Backlog { get; }

    /// <summary>Keep-alive of its connections; null for none.</summary>
    public TcpKeepAlive? KeepAlive { get; }

    /// <summary>The congestion control of its connections.</summary>
    public TcpCongestionControl CongestionControl { get; }

    /// <summary>When SYNs are answered with cookies instead of half-open connections.</summary>
    public TcpSynCookieMode SynCookies { get; }

    internal ref int HalfOpen(int worker) => ref _halfOpen[worker * Stride];

    internal void NoteCookieSent(int worker, long nowUs) => _lastCookieUs[worker * Stride / 2] = nowUs;

    /// <summary>True when an ACK no connection takes may carry one of our cookies (Linux's <c>tcp_synq_no_recent_overflow</c>, negated).</summary>
    internal bool MayHoldCookie(int worker, long nowUs) =>
        SynCookies == TcpSynCookieMode.Always
        || (SynCookies == TcpSynCookieMode.OnOverflow && nowUs - _lastCookieUs[worker * Stride / 2] <= CookieValidUs);

    /// <summary>True when a segment to <paramref name="destination"/> of family <paramref name="ipv6"/> may reach this listener.</summary>
    internal bool Accepts(bool ipv6, IpAddress destination) =>
        LocalAddress is not { } address
        || (address.IsIpv6 == ipv6 && (address.IsUnspecified || address == destination));

    /// <summary>True when this listener and <paramref name="other"/> would both take some segment.</summary>
    internal bool Overlaps(TcpListener other)
    {
        if (Port != other.Port)
            return false;
        if (LocalAddress is not { } mine || other.LocalAddress is not { } theirs)
            return true;
        return mine.IsIpv6 == theirs.IsIpv6 && (mine.IsUnspecified || theirs.IsUnspecified || mine == theirs);
    }
}
