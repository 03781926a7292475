namespace XdpStack.Stack.Transport.Tcp.Services;

/// <summary>TCP echo (RFC 862): sends back every octet received, and closes after the peer closes and all was echoed.</summary>
/// <remarks>What the send buffer cannot take stays in the receive buffer, so a client that does not read is slowed by our closing receive window, not by loss.</remarks>
public sealed class TcpEchoResponder : ITcpApplication
{
    public static readonly TcpEchoResponder Instance = new();

    public void OnEstablished(TcpConnection connection)
    {
    }

    public void OnReceive(TcpConnection connection)
    {
        while (connection.Available > 0 && connection.SendSpace > 0)
        {
            int n = connection.Write(connection.Peek());
            if (n == 0)
                break;
            connection.Consume(n);
        }
        if (connection.PeerClosed && connection.Available == 0)
            connection.Close();
    }
}
