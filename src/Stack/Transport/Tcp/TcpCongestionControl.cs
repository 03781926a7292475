namespace XdpStack.Stack.Transport.Tcp;

/// <summary>How a connection's congestion window grows and shrinks once slow start is over (Linux <c>tcp_congestion_control</c>).</summary>
public enum TcpCongestionControl
{
    /// <summary>CUBIC (RFC 9438): the window follows a cubic function of the time since the last loss; Linux's default since 2.6.19.</summary>
    Cubic,

    /// <summary>NewReno (RFC 5681, RFC 6582): one segment more per round trip, half the flight on a loss.</summary>
    NewReno,
}
