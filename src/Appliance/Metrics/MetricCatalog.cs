using static XdpStack.Appliance.Metrics.MetricKind;

namespace XdpStack.Appliance.Metrics;

/// <summary>Every family the appliance exports; docs/metrics.md is the contract, and a test holds the two together.</summary>
internal static class MetricCatalog
{
    public static readonly MetricFamily BuildInfo = new("xdpstack_build_info", Gauge, "Which build runs (always 1).", "version", "runtime", "command");
    public static readonly MetricFamily SocketInfo = new("xdpstack_socket_info", Gauge, "What each AF_XDP socket obtained (always 1).", "device", "queue", "worker", "mode", "attach", "need_wakeup", "busy_poll");
    public static readonly MetricFamily ReceivePackets = new("xdpstack_receive_packets_total", Counter, "Frames read from the socket's RX ring.", "device", "queue");
    public static readonly MetricFamily ReceiveBytes = new("xdpstack_receive_bytes_total", Counter, "Bytes of the frames read from the RX ring (Ethernet header on, FCS off).", "device", "queue");
    public static readonly MetricFamily TransmitPackets = new("xdpstack_transmit_packets_total", Counter, "Frames put on the socket's TX ring.", "device", "queue");
    public static readonly MetricFamily TransmitBytes = new("xdpstack_transmit_bytes_total", Counter, "Bytes of the frames put on the TX ring.", "device", "queue");
    public static readonly MetricFamily Forwarded = new("xdpstack_forwarded_packets_total", Counter, "Frames routed from one interface to another (fast paths and stack).", "device", "out_device");
    public static readonly MetricFamily Drops = new("xdpstack_drops_total", Counter, "Frames the appliance dropped, by a closed set of reasons.", "device", "reason");
    public static readonly MetricFamily XskRxDropped = new("xdpstack_xsk_rx_dropped_total", Counter, "XDP_STATISTICS rx_dropped.", "device", "queue");
    public static readonly MetricFamily XskRxInvalid = new("xdpstack_xsk_rx_invalid_descs_total", Counter, "XDP_STATISTICS rx_invalid_descs.", "device", "queue");
    public static readonly MetricFamily XskTxInvalid = new("xdpstack_xsk_tx_invalid_descs_total", Counter, "XDP_STATISTICS tx_invalid_descs.", "device", "queue");
    public static readonly MetricFamily XskRxRingFull = new("xdpstack_xsk_rx_ring_full_total", Counter, "XDP_STATISTICS rx_ring_full.", "device", "queue");
    public static readonly MetricFamily XskFillRingEmpty = new("xdpstack_xsk_rx_fill_ring_empty_total", Counter, "XDP_STATISTICS rx_fill_ring_empty_descs.", "device", "queue");
    public static readonly MetricFamily XskTxRingEmpty = new("xdpstack_xsk_tx_ring_empty_total", Counter, "XDP_STATISTICS tx_ring_empty_descs.", "device", "queue");
    public static readonly MetricFamily RingEntries = new("xdpstack_ring_entries", Gauge, "Entries in the ring at scrape time.", "device", "queue", "ring");
    public static readonly MetricFamily RingSize = new("xdpstack_ring_size", Gauge, "The ring's capacity.", "device", "queue", "ring");
    public static readonly MetricFamily UmemFrames = new("xdpstack_umem_frames", Gauge, "Frames in the worker's UMEM.", "worker");
    public static readonly MetricFamily UmemFreeFrames = new("xdpstack_umem_free_frames", Gauge, "Frames in the worker's pool (in no ring, not in flight).", "worker");
    public static readonly MetricFamily Wakeups = new("xdpstack_wakeups_total", Counter, "Wake-up syscalls (sendto kicks for tx; poll and busy-poll recvfrom for rx).", "device", "queue", "direction");
    public static readonly MetricFamily WorkerBusySeconds = new("xdpstack_worker_busy_seconds_total", Counter, "Time the worker spent on rounds that moved frames.", "worker");
    public static readonly MetricFamily WorkerSeconds = new("xdpstack_worker_seconds_total", Counter, "Time since the worker started.", "worker");
    public static readonly MetricFamily WorkerPolls = new("xdpstack_worker_polls_total", Counter, "Polling rounds.", "worker");
    public static readonly MetricFamily WorkerAllocatedBytes = new("xdpstack_worker_allocated_bytes_total", Counter, "Bytes the worker thread allocated (GC.GetAllocatedBytesForCurrentThread), read when it goes idle and every 4096 busy rounds: flat once warm.", "worker");
    public static readonly MetricFamily RxBatchSize = new("xdpstack_rx_batch_size", Histogram, "Frames per non-empty RX batch.", "worker");
    public static readonly MetricFamily Arp = new("xdpstack_arp_packets_total", Counter, "ARP events.", "device", "type");
    public static readonly MetricFamily Ndp = new("xdpstack_ndp_packets_total", Counter, "NDP events.", "device", "type");
    public static readonly MetricFamily Icmp = new("xdpstack_icmp_packets_total", Counter, "ICMP and ICMPv6 events.", "device", "family", "type");
    public static readonly MetricFamily Ip = new("xdpstack_ip_packets_total", Counter, "IP events.", "device", "family", "type");
    public static readonly MetricFamily Udp = new("xdpstack_udp_datagrams_total", Counter, "UDP events.", "device", "type");
    public static readonly MetricFamily UdpBytes = new("xdpstack_udp_bytes_total", Counter, "Payload octets of the UDP echo and discard services.", "device", "type");
    public static readonly MetricFamily Tcp = new("xdpstack_tcp_segments_total", Counter, "TCP events: segments, opens, resets, retransmissions, timers.", "device", "type");
    public static readonly MetricFamily TcpBytes = new("xdpstack_tcp_bytes_total", Counter, "TCP payload octets received in order and sent for the first time.", "device", "type");
    public static readonly MetricFamily Http = new("xdpstack_http_requests_total", Counter, "Requests of the HTTP responder services.", "device", "type");
    public static readonly MetricFamily StackFrames = new("xdpstack_stack_frames_total", Counter, "Frames the stack's NICs received from the workers (what the fast paths left) and sent.", "device", "type");
    public static readonly MetricFamily StackBytes = new("xdpstack_stack_bytes_total", Counter, "Bytes of the frames in xdpstack_stack_frames_total.", "device", "type");
    public static readonly MetricFamily Neighbors = new("xdpstack_neighbor_entries", Gauge, "Neighbour cache entries.", "device", "family", "state");
    public static readonly MetricFamily PuntFrames = new("xdpstack_punt_frames_total", Counter, "Frames between an interface and its kernel TAP twin (docs/punt.md).", "device", "direction");
    public static readonly MetricFamily PuntBytes = new("xdpstack_punt_bytes_total", Counter, "Bytes of the frames that reached the kernel TAP twin or left it.", "device", "direction");
    public static readonly MetricFamily Routes = new("xdpstack_routes", Gauge, "Routes in the routing table.", "family");
    public static readonly MetricFamily KernelRouteLatency = new("xdpstack_kernel_route_latency_seconds", Histogram, "Kernel route notifications by the time from their arrival to the route table publication that holds them.");
    public static readonly MetricFamily InterfaceUp = new("xdpstack_interface_up", Gauge, "1 while the interface's NIC is enabled (link up and running); 0 after a link down or a deletion.", "device");
    public static readonly MetricFamily ConfigReloads = new("xdpstack_config_reloads_total", Counter, "SIGHUP reloads by result.", "result");
    public static readonly MetricFamily ConfigLastReloadSuccessful = new("xdpstack_config_last_reload_successful", Gauge, "1 if the last reload applied (or none was tried), 0 if it was refused.");
    public static readonly MetricFamily AllocatedBytes = new("xdpstack_dotnet_allocated_bytes_total", Counter, "GC.GetTotalAllocatedBytes(): bytes the process allocated.");

    /// <summary>Every family, in the order of docs/metrics.md (the families added here follow their kin).</summary>
    public static IReadOnlyList<MetricFamily> All { get; } =
    [
        BuildInfo, SocketInfo, ReceivePackets, ReceiveBytes, TransmitPackets, TransmitBytes, Forwarded, Drops,
        XskRxDropped, XskRxInvalid, XskTxInvalid, XskRxRingFull, XskFillRingEmpty, XskTxRingEmpty,
        RingEntries, RingSize, UmemFrames, UmemFreeFrames, Wakeups, WorkerBusySeconds, WorkerSeconds, WorkerPolls,
        WorkerAllocatedBytes, RxBatchSize, Arp, Ndp, Icmp, Ip, Udp, UdpBytes, Tcp, TcpBytes, Http, StackFrames, StackBytes, Neighbors, PuntFrames, PuntBytes, Routes,
        KernelRouteLatency, InterfaceUp, ConfigReloads, ConfigLastReloadSuccessful, AllocatedBytes,
    ];

    /// <summary>What <c>xdpstack reflect</c> serves: it has sockets and workers but no stack, routes or config file.</summary>
    public static IReadOnlyList<MetricFamily> Reflect { get; } =
    [
        BuildInfo, SocketInfo, ReceivePackets, ReceiveBytes, TransmitPackets, TransmitBytes, Drops,
        XskRxDropped, XskRxInvalid, XskTxInvalid, XskRxRingFull, XskFillRingEmpty, XskTxRingEmpty,
        RingEntries, RingSize, UmemFrames, UmemFreeFrames, Wakeups, WorkerBusySeconds, WorkerSeconds, WorkerPolls,
        RxBatchSize, AllocatedBytes,
    ];

    /// <summary>The family a protocol event feeds.</summary>
    public static MetricFamily Of(ProtocolFamily family) => family switch
    {
        ProtocolFamily.Arp => Arp,
        ProtocolFamily.Ndp => Ndp,
        ProtocolFamily.Icmp => Icmp,
        ProtocolFamily.Ip => Ip,
        ProtocolFamily.Udp => Udp,
        ProtocolFamily.UdpBytes => UdpBytes,
        ProtocolFamily.Tcp => Tcp,
        ProtocolFamily.TcpBytes => TcpBytes,
        ProtocolFamily.Http => Http,
        ProtocolFamily.StackFrames => StackFrames,
        ProtocolFamily.StackBytes => StackBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, null),
    };

    /// <summary>Upper bounds of the <see cref="RxBatchSize"/> buckets: powers of two up to the largest batch.</summary>
    /// <summary>The buckets of <see cref="KernelRouteLatency"/>: whole milliseconds up to 1 s, so that the sync's 1 ms counts (<c>RouteLatencyHistogram</c>) fall into them exactly; 0.1 s is issue 14's p99 goal.</summary>
    public static double[] KernelRouteLatencyBuckets { get; } = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

    public static double[] BatchBuckets(int maxBatch)
    {
        var buckets = new List<double>();
        for (int b = 1; b < maxBatch; b *= 2)
            buckets.Add(b);
        buckets.Add(maxBatch);
        return [.. buckets];
    }
}
