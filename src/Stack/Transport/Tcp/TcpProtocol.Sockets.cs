namespace XdpStack.Stack.Transport.Tcp;

// The application API off the worker (TcpSocket, TcpSocketListener): connect and listen, the per-worker command
// hand-off the worker drains at each poll, and the choice of an ephemeral port.
public sealed partial class TcpProtocol
{
    private const int CommandQueueCapacity = 4096;

    // Commands each worker drains per poll at most, so a flood of them cannot starve its packets.
    private const int CommandBudget = 1024;

    // Linux's default ip_local_port_range.
    private const int FirstEphemeralPort = 32768;
    private const int LastEphemeralPort = 60999;

    private readonly TcpCommandQueue[] _commands;
    private readonly TcpSocketApplication _socketApplication;

    /// <summary>
    /// Opens a connection to <paramref name="remoteAddress"/>:<paramref name="remotePort"/> on worker
    /// <paramref name="worker"/> from <paramref name="localAddress"/> (null: the route's) and <paramref name="localPort"/>
    /// (0: an ephemeral port of that worker, see docs/tcp.md); completes once ESTABLISHED.
    /// </summary>
    /// <exception cref="TcpSocketException">Refused (RST), timed out after the SYN retransmissions, no route, or no port free.</exception>
    public async ValueTask<TcpSocket> ConnectAsync(IpAddress remoteAddress, ushort remotePort, IpAddress? localAddress = null,
        ushort localPort = 0, int worker = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(worker);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(worker, _workers.Length);
        if (remotePort == 0 || remoteAddress.IsUnspecified || remoteAddress.IsMulticast || (remoteAddress.IsIpv4 && remoteAddress.V4.IsBroadcast))
            throw new TcpSocketException(TcpError.NetworkUnreachable, $"tcp: cannot connect to {remoteAddress}:{remotePort}");
        IpAddress local = localAddress ?? (remoteAddress.IsIpv4 ? new IpAddress(Wire.Ipv4Address.Any) : new IpAddress(Wire.Ipv6Address.Any));
        StackError error = Stack.FindRoute(NicId.Any, local, remoteAddress, out Route? route);
        if (error != StackError.None)
            throw new TcpSocketException(TcpError.NetworkUnreachable, $"tcp: no route to {remoteAddress}: {error}");
        TcpSocket socket;
        using (route)
        {
            socket = new TcpSocket(this, worker, route!.LocalAddress, localPort, remoteAddress, remotePort)
            {
                ConnectNic = route.Nic,
                ConnectNextHop = route.NextHop.IsUnspecified ? remoteAddress : route.NextHop,
                ConnectMac = route.RemoteLinkAddress ?? default,
            };
        }
        await socket.PostAsync(TcpCommand.Connect, cancellationToken).ConfigureAwait(false);
        try
        {
            await socket.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await socket.PostAsync(TcpCommand.Abort, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return socket;
    }

    /// <summary>Listens on <paramref name="port"/> like <see cref="Listen"/>, handing connections to <see cref="TcpSocketListener.AcceptAsync"/>. Errors as <see cref="Listen"/>.</summary>
    public StackError ListenSockets(ushort port, IpAddress? localAddress, out TcpSocketListener? listener, int? backlog = null)
    {
        var sockets = new TcpSocketListener(this, _workers.Length, backlog ?? Settings.Backlog);
        StackError error = Listen(port, localAddress, new TcpSocketApplication(this, sockets), out TcpListener? stackListener, backlog);
        if (error != StackError.None)
        {
            listener = null;
            return error;
        }
        sockets.Listener = stackListener!;
        listener = sockets;
        return StackError.None;
    }

    /// <summary>Application threads: hands <paramref name="command"/> to the socket's worker; false when its hand-off is full.</summary>
    internal bool TryPost(TcpSocket socket, TcpCommand command)
    {
        TcpCommandQueue queue = _commands[socket.Worker];
        lock (queue.ProducerLock)
            return queue.TryEnqueue(socket, command);
    }

    // Worker: runs what the applications asked since the last poll (one acquire load when nothing did).
    private void DrainCommands(int worker)
    {
        TcpCommandQueue queue = _commands[worker];
        if (!queue.TryDequeue(out TcpSocket socket, out TcpCommand command))
            return;
        long now = _workers[worker].NowMicroseconds();
        int budget = CommandBudget;
        do
        {
            if (command == TcpCommand.Connect)
                Open(worker, socket, now);
            else
                socket.Handle(command, now);
        }
        while (--budget > 0 && queue.TryDequeue(out socket, out command));
    }

    // Worker: the active open of a socket, on the worker that will own it.
    private void Open(int worker, TcpSocket socket, long now)
    {
        TcpWorker tables = _workers[worker];
        bool ipv6 = socket.RemoteAddress.IsIpv6;
        ushort port = socket.LocalPort != 0 ? socket.LocalPort : ChooseEphemeralPort(tables, ipv6, socket.LocalAddress, socket.RemoteAddress, socket.RemotePort);
        var key = new TcpFlowKey(socket.LocalAddress, socket.RemoteAddress, port, socket.RemotePort);
        if (port == 0 || tables.Find(key) is not null)
        {
            socket.End(TcpError.AddressNotAvailable);
            return;
        }
        TcpConnection connection = tables.Add(key, listener: null, _socketApplication, socket.ConnectNic!, ipv6, socket.ConnectMac);
        socket.Attach(connection);
        connection.Open(socket.ConnectNextHop, now);
    }

    /// <summary>
    /// An ephemeral port for a connection of worker <paramref name="tables"/> to the peer: from Linux's range, starting at a
    /// random point (RFC 6056 §3.3.1), only ports whose remainder by the number of workers is this worker's index (so an
    /// ntuple rule on the low bits can steer the replies to it, see docs/tcp.md), skipping a port that names a connection
    /// of this worker to the same peer or that a listener holds. 0 when none is left.
    /// </summary>
    private ushort ChooseEphemeralPort(TcpWorker tables, bool ipv6, IpAddress local, IpAddress remote, ushort remotePort)
    {
        int workers = _workers.Length;
        int count = LastEphemeralPort - FirstEphemeralPort + 1;
        int start = (int)(tables.Random() % (uint)count);
        TcpListenerTable listeners = Volatile.Read(ref _listeners);
        for (int i = 0; i < count; i++)
        {
            int port = FirstEphemeralPort + ((start + i) % count);
            if (port % workers != tables.Index)
                continue;
            if (tables.Find(new TcpFlowKey(local, remote, (ushort)port, remotePort)) is not null)
                continue;
            if (listeners.Find(ipv6, local, (ushort)port) is not null)
                continue;
            return (ushort)port;
        }
        return 0;
    }
}
