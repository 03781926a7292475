namespace XdpStack.Stack.Transport.Tcp;

/// <summary>A passive open (LISTEN, RFC 9293 §3.3.2) on a port of one local address or of all of them, whose connections run <see cref="Application"/>.</summary>
/// <remarks>
/// Immutable once registered, apart from the per-worker half-open counts, each written only by its worker.
/// A connection is handed to <see cref="Application"/> when its handshake completes on the worker that
/// received its SYN; SYN-RECEIVED connections count against <see cref="Backlog"/> per worker, as Linux
/// counts its request sockets per listener.
/// </remarks>
public sealed class TcpListener
{
    // One counter per worker, 64 bytes apart, written only by that worker.
    private const int Stride = 16;

    private readonly int[] _halfOpen;

    internal TcpListener(ushort port, IpAddress? localAddress, ITcpApplication application, int backlog, int workers)
    {
        Port = port;
        LocalAddress = localAddress;
        Application = application;
        Backlog = backlog;
        _halfOpen = new int[workers * Stride];
    }

    public ushort Port { get; }

    /// <summary>The one local address it listens on; null for every address of both families, an unspecified address for every address of its family.</summary>
    public IpAddress? LocalAddress { get; }

    public ITcpApplication Application { get; }

    /// <summary>The most SYN-RECEIVED connections per worker; further SYNs are dropped and counted (<see cref="StatCounter.TcpListenDrops"/>).</summary>
    public int Backlog { get; }

    internal ref int HalfOpen(int worker) => ref _halfOpen[worker * Stride];

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
