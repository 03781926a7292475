namespace XdpStack.Stack.Transport.Tcp;

/// <summary>What an ICMP or ICMPv6 error about one of our segments means to its connection, as Linux's <c>tcp_v4_err</c> and <c>tcp_v6_err</c> read it.</summary>
/// <remarks>
/// An error either carries a smaller path MTU (Fragmentation Needed, Packet Too Big), or an errno-like
/// <see cref="Error"/>, which ends a connection still in its handshake and is otherwise kept, to be reported if the
/// connection later times out (RFC 1122 §4.2.3.9: an established connection must not be aborted for a soft error;
/// Linux's <c>sk_err_soft</c>). <see cref="AbortsHalfOpen"/> is what drops a listener's half-open connection
/// (Linux's <c>tcp_req_err</c>). Source Quench, Redirect and unknown codes mean nothing.
/// </remarks>
internal readonly record struct TcpIcmpError(TcpError Error, int PathMtu, bool AbortsHalfOpen)
{
    // RFC 1191 §3 lets a host ignore an MTU below 576; Linux clamps to net.ipv4.route.min_pmtu (552) instead.
    internal const int MinimumIpv4PathMtu = 552;

    // RFC 8200 §5: every IPv6 link carries 1280; Linux ignores a Packet Too Big below it for TCP.
    internal const int MinimumIpv6PathMtu = 1280;

    /// <summary>True when the message means nothing to TCP.</summary>
    public bool IsIgnored => Error == TcpError.None && PathMtu == 0;

    /// <summary>ICMPv4 (RFC 792, RFC 1812 §5.2.7.1) through Linux's <c>icmp_err_convert</c> table.</summary>
    /// <param name="type">The ICMP type.</param>
    /// <param name="code">The ICMP code.</param>
    /// <param name="info">The four octets after the checksum; for Fragmentation Needed the low 16 bits are the next-hop MTU (RFC 1191).</param>
    public static TcpIcmpError FromIcmpv4(byte type, byte code, uint info)
    {
        switch (type)
        {
            case 3: // Destination Unreachable
                if (code == 4)
                    return new TcpIcmpError(TcpError.None, Math.Max((int)(info & 0xFFFF), MinimumIpv4PathMtu), false);
                TcpError error = code switch
                {
                    0 or 6 or 9 or 11 => TcpError.NetworkUnreachable,
                    1 or 10 or 12 or 13 or 14 or 15 => TcpError.HostUnreachable,
                    2 => TcpError.ProtocolUnreachable,
                    3 => TcpError.ConnectionRefused,
                    5 => TcpError.SourceRouteFailed,
                    7 => TcpError.HostDown,
                    8 => TcpError.HostIsolated,
                    _ => TcpError.None,
                };
                return new TcpIcmpError(error, 0, code is 0 or 1);
            case 11: // Time Exceeded
                return new TcpIcmpError(TcpError.HostUnreachable, 0, true);
            case 12: // Parameter Problem
                return new TcpIcmpError(TcpError.ProtocolError, 0, true);
            default:
                return default;
        }
    }

    /// <summary>ICMPv6 (RFC 4443) through Linux's <c>icmpv6_err_convert</c>.</summary>
    /// <param name="type">The ICMPv6 type.</param>
    /// <param name="code">The ICMPv6 code.</param>
    /// <param name="info">The four octets after the checksum; for Packet Too Big, the MTU.</param>
    public static TcpIcmpError FromIcmpv6(byte type, byte code, uint info)
    {
        switch (type)
        {
            case 1: // Destination Unreachable
                return code switch
                {
                    0 => new TcpIcmpError(TcpError.NetworkUnreachable, 0, false),
                    2 or 3 => new TcpIcmpError(TcpError.HostUnreachable, 0, false),
                    1 or 5 or 6 => new TcpIcmpError(TcpError.AccessDenied, 0, true),
                    4 => new TcpIcmpError(TcpError.ConnectionRefused, 0, true),
                    _ => new TcpIcmpError(TcpError.ProtocolError, 0, true),
                };
            case 2: // Packet Too Big
                return info < MinimumIpv6PathMtu ? default : new TcpIcmpError(TcpError.None, (int)Math.Min(info, int.MaxValue), false);
            case 3: // Time Exceeded
                return new TcpIcmpError(TcpError.HostUnreachable, 0, false);
            case 4: // Parameter Problem
                return new TcpIcmpError(TcpError.ProtocolError, 0, true);
            default:
                return default;
        }
    }
}
