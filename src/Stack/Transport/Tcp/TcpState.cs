namespace XdpStack.Stack.Transport.Tcp;

/// <summary>The states of a TCP connection (RFC 9293 §3.3.2); LISTEN lives in <see cref="TcpListener"/>, not in a connection.</summary>
public enum TcpState
{
    Closed,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}
