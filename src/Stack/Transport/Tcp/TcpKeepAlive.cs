namespace XdpStack.Stack.Transport.Tcp;

/// <summary>Keep-alive for a listener's connections (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6), with Linux's meaning of the three knobs.</summary>
/// <param name="Idle">Quiet time before the first probe (Linux <c>TCP_KEEPIDLE</c>, <c>tcp_keepalive_time</c> 7200 s).</param>
/// <param name="Interval">Time between unanswered probes (<c>TCP_KEEPINTVL</c>, <c>tcp_keepalive_intvl</c> 75 s).</param>
/// <param name="Count">Unanswered probes after which the connection is dropped with a RST (<c>TCP_KEEPCNT</c>, <c>tcp_keepalive_probes</c> 9).</param>
public sealed record TcpKeepAlive(TimeSpan Idle, TimeSpan Interval, int Count)
{
    /// <summary>Linux's defaults: 7200 s, 75 s, 9.</summary>
    public static TcpKeepAlive Linux { get; } = new(TimeSpan.FromSeconds(7200), TimeSpan.FromSeconds(75), 9);
}
