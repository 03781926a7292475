namespace XdpStack.Stack.Transport.Tcp;

/// <summary>Buffer sizes, limits and timer constants of a <see cref="TcpProtocol"/>; the defaults follow Linux where it has one.</summary>
public sealed record TcpSettings
{
    /// <summary>Receive buffer per connection, the most it advertises (Linux <c>tcp_rmem</c> default is 128 KiB; a responder needs less).</summary>
    public int ReceiveBufferSize { get; init; } = 64 * 1024;

    /// <summary>Send buffer per connection.</summary>
    public int SendBufferSize { get; init; } = 64 * 1024;

    /// <summary>The congestion control of connections whose listener sets none (Linux <c>tcp_congestion_control</c>, default <c>cubic</c>).</summary>
    public TcpCongestionControl CongestionControl { get; init; } = TcpCongestionControl.Cubic;

    /// <summary>SYN-RECEIVED connections per listener and worker (Linux <c>somaxconn</c> 4096).</summary>
    public int Backlog { get; init; } = 4096;

    /// <summary>When listeners answer with SYN cookies (Linux <c>tcp_syncookies</c>, default 1: once the backlog is full).</summary>
    public TcpSynCookieMode SynCookies { get; init; } = TcpSynCookieMode.OnOverflow;

    /// <summary>Keep-alive for connections of listeners that set none; null (the default, as in Linux without <c>SO_KEEPALIVE</c>) for none.</summary>
    public TcpKeepAlive? KeepAlive { get; init; }

    /// <summary>Connections per worker in TIME_WAIT; beyond it a closing connection skips TIME_WAIT (Linux <c>tcp_max_tw_buckets</c>).</summary>
    public int MaxTimeWait { get; init; } = 32 * 1024;

    /// <summary>Out-of-order ranges kept per connection; a segment that would need another is dropped.</summary>
    public int OutOfOrderRanges { get; init; } = 4;

    /// <summary>RFC 6298 §2.1.</summary>
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>RFC 6298 §2.4 allows less than 1 s; Linux's <c>TCP_RTO_MIN</c>.</summary>
    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Linux <c>TCP_RTO_MAX</c>.</summary>
    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Linux's minimum delayed-ACK time (<c>TCP_DELACK_MIN</c>).</summary>
    public TimeSpan DelayedAck { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>2 MSL as Linux counts it (<c>TCP_TIMEWAIT_LEN</c>); also the FIN_WAIT_2 limit (<c>tcp_fin_timeout</c>).</summary>
    public TimeSpan TimeWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>SYN-ACK retransmissions before a half-open connection is dropped (Linux <c>tcp_synack_retries</c>).</summary>
    public int SynAckRetries { get; init; } = 5;

    /// <summary>SYN retransmissions of an active open before it fails with <see cref="TcpError.TimedOut"/> (Linux <c>tcp_syn_retries</c>: 6, about 127 s).</summary>
    public int SynRetries { get; init; } = 6;

    /// <summary>Retransmissions of data before the connection is dropped (Linux <c>tcp_retries2</c>).</summary>
    public int MaxRetries { get; init; } = 15;

    /// <summary>Tail loss probes (RFC 8985 §7) on connections with SACK, as Linux sends them by default (<c>tcp_early_retrans</c> 3); false leaves a lost tail to the retransmission timer.</summary>
    public bool LossProbes { get; init; } = true;

    /// <summary>RACK's reordering window (RFC 8985 §6.2) on connections with SACK, as Linux runs it by default (<c>tcp_recovery</c> 1): a hole with one or two segments SACKed above it is lost once a quarter of the minimum RTT passes; false waits for three (or the retransmission timer).</summary>
    public bool Rack { get; init; } = true;

    /// <summary>
    /// Connections per worker outside TIME_WAIT (each holds its receive and send buffers once established); a SYN, or a
    /// cookie's ACK, beyond it is dropped and counted in <see cref="StatCounter.TcpListenDrops"/>, as Linux drops them
    /// when its TCP memory is spent. Null: as many as half the memory the process may use holds at these buffer sizes.
    /// </summary>
    public int? MaxConnections { get; init; }

    /// <summary>The limit <see cref="MaxConnections"/> gives, or its default for <paramref name="workers"/> workers.</summary>
    public int ConnectionLimit(int workers)
    {
        if (MaxConnections is { } max)
            return max;
        long perConnection = (long)ReceiveBufferSize + SendBufferSize;
        long budget = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2 / Math.Max(1, workers);
        return (int)Math.Clamp(budget / Math.Max(1, perConnection), 1024, 1 << 20);
    }
}
