using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Tcp;

// ICMP errors about our segments, as Linux's tcp_v4_err/tcp_v6_err take them: a quoted sequence number outside what is
// in flight is refused (RFC 5927 §4.1); a smaller path MTU shrinks the MSS and resends what no longer fits (RFC 1191,
// RFC 8201); any other error ends a connection still in its handshake and is otherwise kept as the reason to report if
// the connection later times out (RFC 1122 §4.2.3.9).
public sealed partial class TcpConnection
{
    // Linux's sk_err_soft: what a timeout reports instead of ETIMEDOUT.
    private TcpError _softError;

    // The path MTU a Fragmentation Needed or Packet Too Big taught; 0 while the link's MTU holds.
    private int _pathMtu;

    /// <summary>What the connection reports when it gives up for lack of answers: the last ICMP error it heard, else <see cref="TcpError.TimedOut"/>.</summary>
    private TcpError TimeoutError => _softError != TcpError.None ? _softError : TcpError.TimedOut;

    /// <summary>Takes an ICMP error whose quoted segment began at <paramref name="quotedSequence"/>.</summary>
    internal void ReceiveIcmpError(uint quotedSequence, in TcpIcmpError error, long nowUs)
    {
        NicStats stats = Nic.Stats;
        int worker = _worker.Index;
        if (State is TcpState.Closed or TcpState.TimeWait)
            return;
        if (State == TcpState.SynReceived && _listener is not null)
        {
            // A listener's half-open connection (Linux's tcp_req_err): only an error about our SYN-ACK counts, and only
            // some drop it, silently: accept() must not return network errors.
            if (quotedSequence != _iss)
            {
                stats.Add(worker, StatCounter.TcpOutOfWindowIcmps);
                return;
            }
            stats.Add(worker, StatCounter.TcpIcmpErrors);
            if (error.AbortsHalfOpen)
            {
                stats.Add(worker, StatCounter.TcpListenDrops);
                Release();
            }
            return;
        }
        if (quotedSequence - _sndUna > _sndMax - _sndUna)
        {
            stats.Add(worker, StatCounter.TcpOutOfWindowIcmps);
            return;
        }
        stats.Add(worker, StatCounter.TcpIcmpErrors);
        if (error.PathMtu != 0)
        {
            LowerPathMtu(error.PathMtu, nowUs);
            return;
        }
        if (State is TcpState.SynSent or TcpState.SynReceived)
        {
            // Linux ends the handshake at once, soft error or not: connect() fails with it.
            CloseWith(error.Error);
            return;
        }
        _softError = error.Error;
    }

    // Linux's tcp_v4_mtu_reduced/tcp_v6_mtu_reduced: the path MTU only goes down; the MSS follows it (tcp_sync_mss),
    // and what is in flight goes again in segments that fit (tcp_simple_retransmit: no congestion response, the
    // loss was not congestion).
    private void LowerPathMtu(int mtu, long nowUs)
    {
        int current = _pathMtu != 0 ? _pathMtu : Nic.Link.Mtu;
        if (mtu >= current)
            return;
        _pathMtu = mtu;
        int before = _mss;
        ClampMssToPath();
        if (_mss >= before || State is TcpState.SynSent or TcpState.SynReceived || _sndMax == _sndUna)
            return;
        _sackRecovery = false;
        _sackedCount = 0;
        _dupAcks = 0;
        _rttTiming = false;
        _sndNxt = _sndUna;
        Retransmit();
        Flush(nowUs);
        ArmRto(nowUs);
    }

    // The MSS that fits the path MTU with this connection's headers (timestamps take 12 octets of every segment), no
    // less than Linux's TCP_MIN_SND_MSS.
    private void ClampMssToPath()
    {
        if (_pathMtu == 0)
            return;
        int fits = _pathMtu - (IsIpv6 ? Ipv6Packet.HeaderLength : Ipv4Packet.MinHeaderLength) - TcpPacket.MinHeaderLength - (_timestamps ? 12 : 0);
        _mss = Math.Min(_mss, Math.Max(fits, MinimumSendMss));
    }

    // Linux's TCP_MIN_SND_MSS: 48 octets of payload, so a tiny MTU cannot make every segment mostly header.
    private const int MinimumSendMss = 48;
}
