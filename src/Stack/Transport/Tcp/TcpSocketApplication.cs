namespace XdpStack.Stack.Transport.Tcp;

/// <summary>The worker-side callbacks of <see cref="TcpSocket"/> connections: each hands the event to the socket kept in <see cref="TcpConnection.ApplicationObject"/>.</summary>
/// <remarks>For a socket listener, an established connection without a socket is an accepted one: it gets its socket here and is queued for <see cref="TcpSocketListener.AcceptAsync"/>.</remarks>
internal sealed class TcpSocketApplication(TcpProtocol tcp, TcpSocketListener? listener) : ITcpApplication
{
    public void OnEstablished(TcpConnection connection)
    {
        if (connection.ApplicationObject is TcpSocket socket)
        {
            socket.OnEstablished(connection);
            return;
        }
        if (listener is null)
            return;
        // One object per accepted connection, made at the handshake, never per segment.
        var accepted = new TcpSocket(tcp, connection.Worker, connection.LocalAddress, connection.LocalPort, connection.RemoteAddress, connection.RemotePort);
        accepted.Attach(connection);
        accepted.OnEstablished(connection);
        if (!listener.TryQueue(connection.Worker, accepted))
            accepted.Reject(connection);
    }

    public void OnReceive(TcpConnection connection)
    {
        if (connection.ApplicationObject is TcpSocket socket)
            socket.Pump(connection);
    }

    public void OnClosed(TcpConnection connection)
    {
        if (connection.ApplicationObject is TcpSocket socket)
            socket.OnClosed(connection);
    }
}
