namespace XdpStack.Stack.Transport.Tcp;

/// <summary>Why a connection ended or could not be made, in the words of the errors Linux reports for a socket.</summary>
public enum TcpError
{
    /// <summary>An orderly close, or no error.</summary>
    None,

    /// <summary>A RST answered our SYN (Linux <c>ECONNREFUSED</c>).</summary>
    ConnectionRefused,

    /// <summary>The SYN retransmissions, the data retransmissions or the keep-alive probes went unanswered (Linux <c>ETIMEDOUT</c>).</summary>
    TimedOut,

    /// <summary>The peer reset a synchronized connection (Linux <c>ECONNRESET</c>).</summary>
    ConnectionReset,

    /// <summary>No route to the peer, or no local address to reach it from (Linux <c>ENETUNREACH</c>).</summary>
    NetworkUnreachable,

    /// <summary>Every ephemeral port of the worker is taken for this peer (Linux <c>EADDRNOTAVAIL</c>).</summary>
    AddressNotAvailable,

    /// <summary>The application aborted the connection, or the stack shut down under it.</summary>
    Aborted,

    /// <summary>An ICMP error said the peer cannot be reached (Linux <c>EHOSTUNREACH</c>): host unreachable, time exceeded, filtered.</summary>
    HostUnreachable,

    /// <summary>ICMP protocol unreachable: the peer runs no TCP (Linux <c>ENOPROTOOPT</c>).</summary>
    ProtocolUnreachable,

    /// <summary>ICMP source route failed (Linux <c>EOPNOTSUPP</c>).</summary>
    SourceRouteFailed,

    /// <summary>ICMP destination host unknown (Linux <c>EHOSTDOWN</c>).</summary>
    HostDown,

    /// <summary>ICMP source host isolated (Linux <c>ENONET</c>).</summary>
    HostIsolated,

    /// <summary>ICMPv6 communication administratively prohibited, source address failed policy, or reject route (Linux <c>EACCES</c>).</summary>
    AccessDenied,

    /// <summary>An ICMP parameter problem about our segment, or an unreachable code no RFC defines (Linux <c>EPROTO</c>).</summary>
    ProtocolError,
}
