namespace XdpStack.Stack.Transport.Tcp.Services;

/// <summary>The responders the stack runs on TCP ports.</summary>
public enum TcpServiceKind
{
    /// <summary>RFC 862 over TCP (<see cref="TcpEchoResponder"/>).</summary>
    Echo,

    /// <summary>RFC 863 over TCP (<see cref="TcpDiscardResponder"/>).</summary>
    Discard,

    /// <summary>HTTP/1.1 with a fixed response (<see cref="HttpResponder"/>).</summary>
    Http,
}
