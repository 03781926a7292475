using System.Diagnostics;
using XdpStack.Appliance.Links;
using XdpStack.Appliance.Metrics;
using XdpStack.Appliance.Routing;
using XdpStack.Appliance.Run;
using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Control;

/// <summary>What the control socket reports about a running appliance: interfaces, routes, neighbours, counters and stats samples.</summary>
/// <remarks>
/// Runs on control threads only. It reads the workers' counters with plain 64-bit loads (never torn, at worst a
/// moment old), the stack's published snapshots (routes, addresses), and the neighbour caches under their own locks;
/// it never writes anything the workers read.
/// </remarks>
internal sealed class ApplianceView
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ApplianceView(ApplianceHost host) => Host = host;

    public ApplianceHost Host { get; }

    private DataPlane Plane => Host.Plane;

    private NetworkStack Stack => Host.Stack;

    public InterfacesReply Interfaces()
    {
        var entries = new List<InterfaceEntry>();
        for (int d = 0; d < Plane.Devices.Count; d++)
        {
            NetDevice device = Plane.Devices[d];
            XdpNicLink link = Plane.Links[d];
            (uint programId, string attach) = d < Plane.Programs.Count
                ? (Plane.Programs[d].ProgramId, AttachName(Plane.Programs[d].AttachedMode))
                : (0u, "none");
            var sockets = new List<SocketEntry>();
            foreach ((RunWorker worker, RunPort port) in PortsOf(link))
            {
                XskSocket socket = port.Socket;
                sockets.Add(new SocketEntry(socket.QueueId, worker.Index, ModeName(socket), attach, NeedWakeup(worker), socket.BusyPoll,
                    Volatile.Read(ref port.RxPackets), Volatile.Read(ref port.RxBytes), Volatile.Read(ref port.TxPackets), Volatile.Read(ref port.TxBytes)));
            }
            sockets.Sort((a, b) => a.Queue.CompareTo(b.Queue));
            // Primary addresses: the configured ones, without the IPv4 broadcast address every NIC answers to.
            string[] addresses = Stack.TryGetNic(link.NicId, out Nic nic) ? [.. nic.PrimaryAddresses().Select(a => a.ToString())] : [];
            entries.Add(new InterfaceEntry(device.Name, link.NicId.Value, device.IfIndex, device.MacString, device.Mtu, addresses,
                [.. Plane.QueuesOf(device.Name)], programId, attach,
                Sum(sockets, s => s.RxPackets), Sum(sockets, s => s.RxBytes), Sum(sockets, s => s.TxPackets), Sum(sockets, s => s.TxBytes),
                sockets));
        }
        for (int l = Plane.Devices.Count; l < Plane.Links.Count; l++)
            entries.Add(VlanEntry(Plane.Links[l]));
        return new InterfacesReply(entries);
    }

    /// <summary>
    /// A VLAN sub-interface: no device or sockets of its own (ifindex 0, the parent's queues); RX is what the workers'
    /// demux gave it, TX what its NIC sent (the stack's frames and its in-place replies; fast-path frames forwarded to
    /// it count on the parent's sockets).
    /// </summary>
    private InterfaceEntry VlanEntry(XdpNicLink link)
    {
        XdpNicLink parent = link.Parent!;
        int nicValue = link.NicId.Value;
        ulong rxPackets = 0, rxBytes = 0;
        foreach (RunWorker worker in Plane.Workers)
        {
            if (nicValue < worker.Counters.NicSlots)
            {
                rxPackets += Volatile.Read(ref worker.Counters.VlanRxPackets[nicValue]);
                rxBytes += Volatile.Read(ref worker.Counters.VlanRxBytes[nicValue]);
            }
        }
        bool found = Stack.TryGetNic(link.NicId, out Nic nic);
        string[] addresses = found ? [.. nic.PrimaryAddresses().Select(a => a.ToString())] : [];
        ulong txPackets = found ? (ulong)nic.Stats[StatCounter.TxPackets] : 0;
        ulong txBytes = found ? (ulong)nic.Stats[StatCounter.TxBytes] : 0;
        return new InterfaceEntry(link.Name, nicValue, 0, link.LinkAddress.ToString(), link.Mtu, addresses, [.. Plane.QueuesOf(parent.Name)],
            0, "none", rxPackets, rxBytes, txPackets, txBytes, [])
        {
            Parent = parent.Name,
            VlanId = link.VlanId,
        };
    }

    public RoutesReply Routes()
    {
        RouteRegistry registry = Host.Routes;
        RouteTable table = Stack.Routes;
        var routes = new List<RouteEntry>(table.Ipv4Routes.Count + table.Ipv6Routes.Count);
        foreach (Ipv4Route r in table.Ipv4Routes)
        {
            (string source, string? protocol) = SourceName(registry.SourceOf(r));
            routes.Add(new RouteEntry("ipv4", r.Destination.ToString(), r.IsOnLink ? null : r.Gateway.ToString(), NicName(r.Nic), r.Nic, r.Metric, source, protocol, r.Weight));
        }
        foreach (Ipv6Route r in table.Ipv6Routes)
        {
            (string source, string? protocol) = SourceName(registry.SourceOf(r));
            routes.Add(new RouteEntry("ipv6", r.Destination.ToString(), r.IsOnLink ? null : r.Gateway.ToString(), NicName(r.Nic), r.Nic, r.Metric, source, protocol, r.Weight));
        }
        return new RoutesReply(routes, Host.KernelRoutes?.Current);
    }

    public RouteSummaryReply RouteSummary()
    {
        RouteTable table = Stack.Routes;
        (int kernel4, int kernel6) = Host.Routes.KernelRoutes;
        FastPathSnapshotEntry? fastPath = null;
        if (Plane.Ipv4FastPath is { } ipv4)
        {
            (int full, int updates) = ipv4.SnapshotBuilds;
            fastPath = new FastPathSnapshotEntry(ipv4.Snapshot.RouteVersion, full, updates, ipv4.LpmCopies);
        }
        return new RouteSummaryReply(table.Version, table.Ipv4Routes.Count, table.Ipv6Routes.Count, kernel4, kernel6,
            Host.Routes.ShadowedPrefixes, Host.KernelRoutes?.Current, fastPath);
    }

    private static (string Source, string? Protocol) SourceName((RouteOrigin Origin, byte Protocol)? source) => source switch
    {
        { Origin: RouteOrigin.Connected } => ("connected", null),
        { Origin: RouteOrigin.Config } => ("config", null),
        { Origin: RouteOrigin.Kernel, Protocol: byte p } => ("kernel", KernelProtocolNames.Name(p)),
        // Only the registry writes routes; a route it does not know was added behind its back (a test, a bug).
        _ => ("unknown", null),
    };

    public NeighborsReply Neighbors()
    {
        var entries = new List<NeighborEntry>();
        foreach (Nic nic in Stack.Nics.Values.OrderBy(n => n.Id.Value))
        {
            foreach (NeighborInfo<Ipv4Address> n in nic.Neighbors.Snapshot().OrderBy(n => n.Address.ToString(), StringComparer.Ordinal))
                entries.Add(new NeighborEntry("ipv4", n.Address.ToString(), MacOf(n.LinkAddress), StateName(n.State), nic.Name, nic.Id.Value));
            foreach (NeighborInfo<Ipv6Address> n in nic.Ipv6Neighbors.Snapshot().OrderBy(n => n.Address.ToString(), StringComparer.Ordinal))
                entries.Add(new NeighborEntry("ipv6", n.Address.ToString(), MacOf(n.LinkAddress), StateName(n.State), nic.Name, nic.Id.Value));
        }
        return new NeighborsReply(entries);
    }

    public CountersReply Counters()
    {
        var nics = new List<NicCounterSet>();
        foreach (Nic nic in Stack.Nics.Values.OrderBy(n => n.Id.Value))
        {
            var counters = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (StatCounter c in Enum.GetValues<StatCounter>())
                counters[c.ToString()] = nic.Stats[c];
            nics.Add(new NicCounterSet(nic.Name, nic.Id.Value, counters));
        }
        var workers = new List<WorkerCounterSet>();
        foreach (RunWorker worker in Plane.Workers)
        {
            var sockets = new List<SocketCounterSet>();
            foreach (RunPort port in worker.Ports)
                sockets.Add(new SocketCounterSet(port.Link.Name, port.Socket.QueueId, PortCounters(port)));
            workers.Add(new WorkerCounterSet(worker.Index, QueueOf(worker), worker.Cpu, WorkerCounters(worker), sockets));
        }
        return new CountersReply(nics, workers);
    }

    public StatsSample Sample()
    {
        double time = _clock.Elapsed.TotalSeconds;
        long now = Stopwatch.GetTimestamp();
        var queues = new List<QueueSample>();
        var workers = new List<WorkerSample>();
        var drops = new List<DropSample>();
        foreach (RunWorker worker in Plane.Workers)
        {
            ulong rx = 0;
            foreach (RunPort port in worker.Ports)
            {
                ulong portRx = Volatile.Read(ref port.RxPackets);
                rx += portRx;
                string attach = AttachOf(port.Link);
                queues.Add(new QueueSample(port.Link.Name, port.Socket.QueueId, worker.Index, ModeName(port.Socket), attach,
                    portRx, Volatile.Read(ref port.RxBytes), Volatile.Read(ref port.TxPackets), Volatile.Read(ref port.TxBytes)));
                drops.Add(new DropSample(DropReasons.TxRingFull, port.Link.Name, (long)Volatile.Read(ref port.TxRingFullDrops)));
                if (TryKernelStatistics(port.Socket, out XdpStatistics k))
                {
                    drops.Add(new DropSample("xsk_rx_dropped", port.Link.Name, (long)k.RxDropped));
                    drops.Add(new DropSample("xsk_rx_ring_full", port.Link.Name, (long)k.RxRingFull));
                    drops.Add(new DropSample("xsk_rx_invalid_descs", port.Link.Name, (long)k.RxInvalidDescs));
                    drops.Add(new DropSample("xsk_tx_invalid_descs", port.Link.Name, (long)k.TxInvalidDescs));
                }
            }
            RunWorkerCounters c = worker.Counters;
            WorkerActivity activity = worker.Activity;
            workers.Add(new WorkerSample(worker.Index, QueueOf(worker), worker.Cpu, Volatile.Read(ref c.Batches), rx, Volatile.Read(ref c.IdlePolls),
                activity.BusySeconds, activity.SecondsSinceStart(now)));
            foreach (XdpNicLink link in Plane.Links)
            {
                int nic = link.NicId.Value;
                if (nic >= c.NicSlots)
                    continue;
                foreach (WorkerDrop drop in Enum.GetValues<WorkerDrop>())
                    drops.Add(new DropSample(DropReasons.Of(drop), link.Name, (long)c.Dropped(nic, drop)));
            }
        }
        // The stack's drops, each counter under its one reason (the metrics' table, docs/metrics.md).
        foreach (Nic nic in Stack.Nics.Values)
        {
            foreach (StatCounter counter in Enum.GetValues<StatCounter>())
            {
                if (DropReasons.Role(counter).DropReason is string reason)
                    drops.Add(new DropSample(reason, nic.Name, nic.Stats[counter]));
            }
        }
        // Several workers (and sockets) count the same reason: the view shows one line per reason and interface.
        DropSample[] merged =
        [
            .. drops.GroupBy(d => (d.Reason, d.Interface))
                .Select(g => new DropSample(g.Key.Reason, g.Key.Interface, g.Sum(d => d.Count)))
                .OrderBy(d => d.Reason, StringComparer.Ordinal).ThenBy(d => d.Interface, StringComparer.Ordinal),
        ];
        PuntSample[] punt =
        [
            .. (Host.Punt?.Taps ?? []).Select(t => new PuntSample(t.Link.Name, t.Device.Name,
                Volatile.Read(ref t.Counters.PuntedFrames), Volatile.Read(ref t.Counters.PuntedBytes),
                Volatile.Read(ref t.Counters.InjectedFrames), Volatile.Read(ref t.Counters.InjectedBytes), Volatile.Read(ref t.Counters.Suppressed))),
        ];
        return new StatsSample(time, queues, workers, merged, punt);
    }

    /// <summary>The (worker, socket) pairs serving <paramref name="link"/>, in worker order.</summary>
    public IEnumerable<(RunWorker Worker, RunPort Port)> PortsOf(XdpNicLink link)
    {
        foreach (RunWorker worker in Plane.Workers)
        {
            foreach (RunPort port in worker.Ports)
            {
                if (ReferenceEquals(port.Link, link))
                    yield return (worker, port);
            }
        }
    }

    public static string ModeName(XskSocket socket) => socket.ZeroCopy ? "zerocopy" : "copy";

    public static string AttachName(XdpAttachMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>The state in the metrics' words (docs/metrics.md, <c>xdpstack_neighbor_entries</c>).</summary>
    public static string StateName(NeighborState state) => state switch
    {
        NeighborState.Unknown => "none",
        NeighborState.Unreachable => "failed",
        _ => state.ToString().ToLowerInvariant(),
    };

    private string AttachOf(XdpNicLink link)
    {
        int d = Plane.Links.ToList().IndexOf(link);
        return d >= 0 && d < Plane.Programs.Count ? AttachName(Plane.Programs[d].AttachedMode) : "none";
    }

    private int QueueOf(RunWorker worker) => worker.Ports.Count > 0 ? worker.Ports[0].Socket.QueueId : -1;

    private string NicName(int nic) => Stack.TryGetNic(new NicId(nic), out Nic n) ? n.Name : nic.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string? MacOf(MacAddress mac) => mac.IsZero ? null : mac.ToString();

    // A socket bound with XDP_SHARED_UMEM takes no other flag: need_wakeup is what the UMEM's first socket asked for.
    private static bool NeedWakeup(RunWorker worker) =>
        worker.Ports.FirstOrDefault(p => !p.Socket.SharedUmem) is { } first && (first.Socket.BindFlags & XdpUseNeedWakeup) != 0;

    // XDP_USE_NEED_WAKEUP from <linux/if_xdp.h>, as the socket was bound.
    private const int XdpUseNeedWakeup = 1 << 3;

    private static ulong Sum(List<SocketEntry> sockets, Func<SocketEntry, ulong> field)
    {
        ulong sum = 0;
        foreach (SocketEntry s in sockets)
            sum += field(s);
        return sum;
    }

    private static bool TryKernelStatistics(XskSocket socket, out XdpStatistics statistics)
    {
        try
        {
            statistics = socket.GetStatistics();
            return true;
        }
        catch (XdpException)
        {
            // The socket is closing (the appliance stops): the sample goes without the kernel's counters.
            statistics = default;
            return false;
        }
    }

    private static SortedDictionary<string, long> WorkerCounters(RunWorker worker)
    {
        RunWorkerCounters c = worker.Counters;
        var counters = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["batches"] = (long)Volatile.Read(ref c.Batches),
            ["fast_forwarded_ipv4"] = (long)Volatile.Read(ref c.FastForwardedIpv4),
            ["fast_forwarded_ipv6"] = (long)Volatile.Read(ref c.FastForwardedIpv6),
            ["slow_path"] = (long)Volatile.Read(ref c.SlowPath),
            ["in_place_replies"] = (long)Volatile.Read(ref c.InPlaceReplies),
            ["stack_built"] = (long)Volatile.Read(ref c.StackBuilt),
            ["handoffs_out"] = (long)Volatile.Read(ref c.HandoffsOut),
            ["handoffs_in"] = (long)Volatile.Read(ref c.HandoffsIn),
            ["control_handoffs"] = (long)Volatile.Read(ref c.ControlHandoffs),
            ["idle_polls"] = (long)Volatile.Read(ref c.IdlePolls),
            ["jumbo_received"] = (long)Volatile.Read(ref c.JumboReceived),
            ["jumbo_sent"] = (long)Volatile.Read(ref c.JumboSent),
        };
        // Milliseconds: the counters are integers; busy over total is the busy ratio (xdpstack_worker_busy_seconds_total).
        counters["busy_ms"] = (long)(worker.Activity.BusySeconds * 1000);
        counters["polls"] = (long)Volatile.Read(ref worker.Activity.Polls);
        foreach (WorkerDrop drop in Enum.GetValues<WorkerDrop>())
            counters["drops_" + DropReasons.Of(drop)] = (long)c.Dropped(drop);
        return counters;
    }

    private static SortedDictionary<string, long> PortCounters(RunPort port)
    {
        var counters = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["rx_packets"] = (long)Volatile.Read(ref port.RxPackets),
            ["rx_bytes"] = (long)Volatile.Read(ref port.RxBytes),
            ["tx_packets"] = (long)Volatile.Read(ref port.TxPackets),
            ["tx_bytes"] = (long)Volatile.Read(ref port.TxBytes),
            ["rx_descriptors"] = (long)Volatile.Read(ref port.RxDescriptors),
            ["tx_descriptors"] = (long)Volatile.Read(ref port.TxDescriptors),
            ["tx_ring_full_drops"] = (long)Volatile.Read(ref port.TxRingFullDrops),
            ["tx_wakeups"] = (long)Volatile.Read(ref port.TxWakeups),
        };
        if (TryKernelStatistics(port.Socket, out XdpStatistics k))
        {
            counters["xsk_rx_dropped"] = (long)k.RxDropped;
            counters["xsk_rx_invalid_descs"] = (long)k.RxInvalidDescs;
            counters["xsk_tx_invalid_descs"] = (long)k.TxInvalidDescs;
            counters["xsk_rx_ring_full"] = (long)k.RxRingFull;
            counters["xsk_rx_fill_ring_empty"] = (long)k.RxFillRingEmptyDescs;
            counters["xsk_tx_ring_empty"] = (long)k.TxRingEmptyDescs;
        }
        return counters;
    }
}
