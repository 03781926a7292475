namespace XdpStack.Xdp.Routes;

/// <summary>What a <see cref="KernelRouteMonitor"/> saw and skipped; written by the monitor's one thread, read by anyone (plain 64-bit loads, at worst a moment old).</summary>
public sealed class KernelRouteCounters
{
    /// <summary>Route messages parsed (dumps and notifications).</summary>
    public long Messages;

    /// <summary>Messages or datagrams that could not be parsed and were skipped: truncated, bad lengths, bad addresses.</summary>
    public long Malformed;

    /// <summary>Route messages of a family other than IPv4 and IPv6 (multicast routing tables, MPLS), skipped.</summary>
    public long OtherFamily;

    /// <summary>Times the notification socket overflowed (ENOBUFS) and the owner had to dump and reconcile.</summary>
    public long Overruns;

    /// <summary>Dumps started (one at start, one per overrun, one more per interrupted dump).</summary>
    public long Dumps;
}
