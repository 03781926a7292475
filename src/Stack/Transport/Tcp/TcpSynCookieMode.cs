namespace XdpStack.Stack.Transport.Tcp;

/// <summary>When a listener answers SYNs with SYN cookies instead of keeping a half-open connection (Linux <c>tcp_syncookies</c> 0, 1, 2).</summary>
public enum TcpSynCookieMode
{
    /// <summary>Never: a SYN beyond the backlog is dropped (<c>tcp_syncookies = 0</c>).</summary>
    Off,

    /// <summary>Once the listener's half-open connections on a worker reach its backlog (<c>tcp_syncookies = 1</c>, Linux's default).</summary>
    OnOverflow,

    /// <summary>For every SYN: no state is kept before the handshake completes (<c>tcp_syncookies = 2</c>).</summary>
    Always,
}
