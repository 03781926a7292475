namespace XdpStack.Xdp.Routes;

/// <summary>How a <see cref="KernelRouteMonitor.Receive"/> call ended.</summary>
public enum KernelRouteReceiveResult
{
    /// <summary>Nothing arrived within the timeout.</summary>
    Timeout,

    /// <summary>Datagrams arrived and were read (their route messages, if any, were added to the list).</summary>
    Received,

    /// <summary>The kernel dropped notifications (ENOBUFS, or a datagram larger than the buffer): the mirror is stale; dump and reconcile.</summary>
    Overrun,
}
