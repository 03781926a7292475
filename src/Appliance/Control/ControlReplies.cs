namespace XdpStack.Appliance.Control;

// The control socket's JSON, both ways: what `xdpstack show --json` prints and what the human forms are made from.
// Names are snake_case on the wire (ControlJson). Addresses appear here (the socket is root's); payloads never do.

/// <summary>A control request or reply that failed: the one field a client shows.</summary>
internal sealed record ControlError(string Error);

/// <summary>Reply to <c>show interfaces</c>.</summary>
internal sealed record InterfacesReply(IReadOnlyList<InterfaceEntry> Interfaces);

/// <summary>One interface the appliance runs on, with its sockets and what they moved.</summary>
internal sealed record InterfaceEntry(
    string Name, int Nic, int Ifindex, string Mac, int Mtu, IReadOnlyList<string> Addresses, IReadOnlyList<int> Queues,
    uint XdpProgram, string Attach, ulong RxPackets, ulong RxBytes, ulong TxPackets, ulong TxBytes, IReadOnlyList<SocketEntry> Sockets)
{
    /// <summary>For a VLAN sub-interface, the interface it rides on (whose sockets carry its frames); null otherwise.</summary>
    public string? Parent { get; init; }

    /// <summary>For a VLAN sub-interface, its 802.1Q VLAN id; null otherwise.</summary>
    public int? VlanId { get; init; }
}

/// <summary>One AF_XDP socket: a queue of an interface, the worker that owns it, and the mode the kernel gave it.</summary>
internal sealed record SocketEntry(
    int Queue, int Worker, string Mode, string Attach, bool NeedWakeup, bool BusyPoll,
    ulong RxPackets, ulong RxBytes, ulong TxPackets, ulong TxBytes);

/// <summary>Reply to <c>show routes</c>: the routes, and the kernel route sync's account when it runs (null when <c>[kernel_routes] sync</c> is off).</summary>
internal sealed record RoutesReply(IReadOnlyList<RouteEntry> Routes, Routing.KernelRouteSyncStatus? KernelSync = null);

/// <summary>One route, in lookup order within its family.</summary>
/// <remarks>
/// <c>Source</c> is <c>connected</c> (from an address), <c>config</c> (a <c>[[route]]</c>) or <c>kernel</c> (mirrored from
/// the kernel's FIB); for a kernel route <c>Protocol</c> is who installed it there, as <c>ip route</c> names rtm_protocol
/// (<c>bird</c>, <c>zebra</c>, <c>static</c>, <c>boot</c>, ...), and null otherwise. <c>Weight</c> is the route's share
/// of its multipath group (1 to 256; 1 for a route alone), from a <c>[[route]]</c>'s <c>weight</c> or the kernel's
/// <c>nexthop ... weight N</c>.
/// </remarks>
internal sealed record RouteEntry(string Family, string Prefix, string? Via, string Interface, int Nic, int Metric, string Source, string? Protocol = null, int Weight = 1);

/// <summary>Reply to <c>show route-summary</c>: the table's size without its routes, cheap to ask for even with a million routes.</summary>
/// <param name="TableVersion">Publications of the route table so far.</param>
/// <param name="Ipv4Routes">IPv4 routes in the table, of every source.</param>
/// <param name="Ipv6Routes">IPv6 routes in the table, of every source.</param>
/// <param name="KernelIpv4Routes">IPv4 routes mirrored from the kernel, in the table or shadowed.</param>
/// <param name="KernelIpv6Routes">IPv6 routes mirrored from the kernel, in the table or shadowed.</param>
/// <param name="ShadowedPrefixes">Prefixes whose kernel routes a connected or config route shadows.</param>
/// <param name="KernelSync">The kernel route sync's account, or null when it is off.</param>
/// <param name="FastPath">The IPv4 fast path's snapshot, or null before the data plane runs.</param>
internal sealed record RouteSummaryReply(
    long TableVersion, int Ipv4Routes, int Ipv6Routes, int KernelIpv4Routes, int KernelIpv6Routes, int ShadowedPrefixes, Routing.KernelRouteSyncStatus? KernelSync,
    FastPathSnapshotEntry? FastPath = null);

/// <summary>The IPv4 fast path's forwarding snapshot: the route table version it holds, and how it got there.</summary>
/// <param name="Ipv4RouteVersion">The route table version of the snapshot the workers use now.</param>
/// <param name="Ipv4FullBuilds">Snapshots built from every route, address and neighbour.</param>
/// <param name="Ipv4Updates">Snapshots made by changing only the prefixes a route publication named.</param>
/// <param name="Ipv4LpmCopies">Of those updates, the ones whose LPM was a whole copy rather than the double buffer's other table.</param>
internal sealed record FastPathSnapshotEntry(long Ipv4RouteVersion, int Ipv4FullBuilds, int Ipv4Updates, int Ipv4LpmCopies);

/// <summary>Reply to <c>show neighbors</c>.</summary>
internal sealed record NeighborsReply(IReadOnlyList<NeighborEntry> Neighbors);

/// <summary>One ARP or NDP cache entry; the state in the words of <c>ip neigh</c>.</summary>
internal sealed record NeighborEntry(string Family, string Address, string? Mac, string State, string Interface, int Nic);

/// <summary>Reply to <c>show counters</c>: every counter, zero or not (the human form hides zeros unless asked).</summary>
internal sealed record CountersReply(IReadOnlyList<NicCounterSet> Interfaces, IReadOnlyList<WorkerCounterSet> Workers);

/// <summary>The stack's counters of one NIC (<c>NicStats</c>), by <c>StatCounter</c> name.</summary>
internal sealed record NicCounterSet(string Interface, int Nic, IReadOnlyDictionary<string, long> Counters);

/// <summary>One worker's counters, and its sockets' (with the kernel's XDP_STATISTICS).</summary>
internal sealed record WorkerCounterSet(int Worker, int Queue, int? Cpu, IReadOnlyDictionary<string, long> Counters, IReadOnlyList<SocketCounterSet> Sockets);

/// <summary>One socket's counters: the worker's own and the kernel's (names prefixed <c>xsk_</c>).</summary>
internal sealed record SocketCounterSet(string Interface, int Queue, IReadOnlyDictionary<string, long> Counters);

/// <summary>Reply to <c>stats</c>: totals at one moment, from which <c>xdpstack stats</c> computes rates.</summary>
/// <remarks><c>Time</c> is seconds on the appliance's monotonic clock: rates divide by differences of it, not of the client's clock.</remarks>
internal sealed record StatsSample(double Time, IReadOnlyList<QueueSample> Queues, IReadOnlyList<WorkerSample> Workers, IReadOnlyList<DropSample> Drops,
    IReadOnlyList<PuntSample>? Punt = null);

/// <summary>One socket's totals in a <see cref="StatsSample"/>.</summary>
internal sealed record QueueSample(string Interface, int Queue, int Worker, string Mode, string Attach, ulong RxPackets, ulong RxBytes, ulong TxPackets, ulong TxBytes);

/// <summary>One worker's totals in a <see cref="StatsSample"/>; busy seconds over seconds since its start is its busy ratio.</summary>
internal sealed record WorkerSample(int Worker, int Queue, int? Cpu, ulong Batches, ulong RxPackets, ulong IdlePolls, double BusySeconds, double Seconds);

/// <summary>One interface's control-plane punt in a <see cref="StatsSample"/> (docs/punt.md): frames and bytes to and from its TAP, the kernel's replies held back.</summary>
internal sealed record PuntSample(string Interface, string Tap, ulong ToKernelFrames, ulong ToKernelBytes, ulong FromKernelFrames, ulong FromKernelBytes, ulong Suppressed);

/// <summary>A drop counter in a <see cref="StatsSample"/>: total frames dropped for <c>Reason</c> on <c>Interface</c> (empty: not tied to one).</summary>
internal sealed record DropSample(string Reason, string Interface, long Count);

/// <summary>What <c>capture</c> asks for: an interface, optionally one queue, a filter, directions, and how many frames.</summary>
/// <remarks><c>Count</c> is the frames to send before the capture ends (0: no limit); <c>Snaplen</c> the bytes kept of each frame.</remarks>
internal sealed record CaptureRequest(string Interface, int? Queue, string Filter, bool Received, bool Transmitted, long Count, int Snaplen);

/// <summary>The capture's first reply line: which sockets it watches.</summary>
internal sealed record CaptureStarted(string Interface, IReadOnlyList<int> Queues, string Filter, int Snaplen);

/// <summary>The capture's last message: frames sent, frames the workers could not place in the buffer, and why it ended.</summary>
internal sealed record CaptureSummary(long Captured, long Dropped, string Ended);
