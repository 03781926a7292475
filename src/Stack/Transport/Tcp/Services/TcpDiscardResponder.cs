namespace XdpStack.Stack.Transport.Tcp.Services;

/// <summary>TCP discard (RFC 863): consumes everything, answers nothing, closes when the peer does.</summary>
public sealed class TcpDiscardResponder : ITcpApplication
{
    public static readonly TcpDiscardResponder Instance = new();

    public void OnEstablished(TcpConnection connection)
    {
    }

    public void OnReceive(TcpConnection connection)
    {
        connection.Consume(connection.Available);
        if (connection.PeerClosed)
            connection.Close();
    }
}
