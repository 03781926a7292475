namespace XdpStack.Stack.Transport.Tcp;

// The worker's side of a socket: it attaches the connection, moves octets between the pipes and the connection's
// buffers, and publishes the state. Runs only on the owning worker, inside a segment's processing, a timer, or the
// drain of the command hand-off; it allocates nothing but the leftover of a connection that ended unread.
public sealed partial class TcpSocket
{
    /// <summary>Worker: the connection is the socket's from now on.</summary>
    internal void Attach(TcpConnection connection)
    {
        _connection = connection;
        connection.ApplicationObject = this;
        LocalPort = connection.LocalPort;
    }

    /// <summary>Worker: the handshake completed.</summary>
    internal void OnEstablished(TcpConnection connection)
    {
        _state = (int)SocketState.Established;
        Pump(connection);
        Wake();
    }

    /// <summary>Worker: a command from the application.</summary>
    internal void Handle(TcpCommand command, long nowUs)
    {
        TcpConnection? connection = _connection;
        switch (command)
        {
            case TcpCommand.Pump:
                Volatile.Write(ref _pumpQueued, 0);
                break;
            case TcpCommand.Shutdown:
                _shutdownRequested = true;
                break;
            case TcpCommand.Close:
                _shutdownRequested = true;
                _discardInput = true;
                // Linux's tcp_close: octets that arrived and were never read are lost, and the peer hears a RST.
                if (connection is not null && connection.State is not (TcpState.SynSent or TcpState.SynReceived)
                    && (_inbound.Count > 0 || connection.Available > 0))
                {
                    connection.AbortOnClose();
                    return;
                }
                break;
            case TcpCommand.Abort:
                if (connection is not null)
                    connection.Abort();
                else
                    End(TcpError.Aborted);
                return;
        }
        if (connection is null)
        {
            // Nothing more will happen to a socket whose connection is gone, or never was: say so.
            if (_state != (int)SocketState.Ended && command != TcpCommand.Pump)
                End(TcpError.None);
            return;
        }
        if (connection.State is TcpState.SynSent or TcpState.SynReceived)
            return;
        Pump(connection);
        connection.AfterInput(nowUs);
    }

    /// <summary>Worker: moves what arrived into the inbound pipe and what was written into the send buffer; sends the FIN once asked and all is in.</summary>
    internal void Pump(TcpConnection connection)
    {
        // Data after the close, while what was written still moves into the send buffer (the connection is not yet
        // the orphan that answers it itself): nobody will read it, so the peer hears a RST, as from Linux.
        if (_discardInput && !_rejected && connection.Available > 0 && connection.State is not (TcpState.TimeWait or TcpState.Closed))
        {
            connection.AbortOnData();
            return;
        }
        bool progressed = false;
        while (connection.Available > 0)
        {
            ReadOnlySpan<byte> arrived = connection.Peek();
            int n = _discardInput ? arrived.Length : _inbound.Write(arrived);
            if (n == 0)
                break;
            connection.Consume(n);
            progressed = true;
        }
        while (connection.SendSpace > 0)
        {
            ReadOnlySpan<byte> written = _outbound.Peek();
            if (written.IsEmpty)
                break;
            int n = connection.Write(written);
            if (n == 0)
                break;
            _outbound.Advance(n);
            progressed = true;
        }
        if (_shutdownRequested && _outbound.Count == 0)
        {
            // A close after a shutdown still makes the connection an orphan (FIN_WAIT_2 then times out).
            if (_discardInput && !connection.Orphaned)
                connection.Close();
            else if (!connection.Closing)
                connection.Shutdown();
        }
        if (connection.Closing && !_finSent)
        {
            _finSent = true;
            progressed = true;
        }
        if (connection.PeerClosed && connection.Available == 0 && !_eof)
        {
            _eof = true;
            progressed = true;
        }
        if (progressed)
            Wake();
    }

    /// <summary>Worker: the connection ended (TIME_WAIT or CLOSED, or failed); what it still holds is kept for the application.</summary>
    internal void OnClosed(TcpConnection connection)
    {
        if (connection.CloseError == TcpError.None)
            Pump(connection);
        int left = connection.CloseError == TcpError.None && !_discardInput ? connection.Available : 0;
        if (left > 0)
        {
            // The application is behind and the buffer goes back to the pool: keep the rest (rare, at the end only).
            _leftover = new byte[left];
            connection.PeekCopy(_leftover);
        }
        if (connection.PeerClosed)
            _eof = true;
        connection.ApplicationObject = null;
        _connection = null;
        End(connection.CloseError);
    }

    /// <summary>Worker: no application will take this accepted connection (the accept queue is full): it is closed at once, as what arrives is dropped.</summary>
    internal void Reject(TcpConnection connection)
    {
        _shutdownRequested = true;
        _discardInput = true;
        _rejected = true;
        Pump(connection);
    }

    internal void End(TcpError error)
    {
        _error = (int)error;
        _state = (int)SocketState.Ended;
        _readWaiter.WakeParked();
        _writeWaiter.WakeParked();
        _controlWaiter.WakeParked();
    }

    private void Wake()
    {
        _readWaiter.Wake();
        _writeWaiter.Wake();
        _controlWaiter.Wake();
    }
}
