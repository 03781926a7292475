namespace XdpStack.Stack.Transport.Tcp;

/// <summary>The server side of an application that runs on the worker owning its connections (the responder services): it is called, never awaited.</summary>
/// <remarks>
/// Every call comes on the connection's worker, inside the stack's processing of a segment or a timer, so
/// an implementation must not block, lock or allocate per call. It reads what arrived with
/// <see cref="TcpConnection.Peek"/> and <see cref="TcpConnection.Consume"/>, answers with
/// <see cref="TcpConnection.Write"/> and ends with <see cref="TcpConnection.Close"/>; per-connection state goes in
/// <see cref="TcpConnection.ApplicationState"/>, so one instance serves every connection of a listener.
/// </remarks>
public interface ITcpApplication
{
    /// <summary>The handshake completed; the connection is ESTABLISHED (or CLOSE_WAIT when the peer's FIN came with its ACK).</summary>
    void OnEstablished(TcpConnection connection);

    /// <summary>Data arrived, the peer closed its side (<see cref="TcpConnection.PeerClosed"/>), or send space freed up while data waits.</summary>
    void OnReceive(TcpConnection connection);

    /// <summary>The deadline set with <see cref="TcpConnection.SetApplicationTimer"/> came (an idle limit, say); what the call writes or a close it makes leaves at once.</summary>
    void OnTimer(TcpConnection connection)
    {
    }

    /// <summary>
    /// The connection ended (an orderly close, a reset, a refused or timed-out connect: <see cref="TcpConnection.CloseError"/>);
    /// it goes back to the worker's pool when this returns, so nothing may keep it. Responders need not know.
    /// </summary>
    void OnClosed(TcpConnection connection)
    {
    }
}
