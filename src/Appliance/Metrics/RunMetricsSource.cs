using XdpStack.Appliance.Links;
using XdpStack.Appliance.Run;
using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using XdpStack.Stack.Neighbors;
using static XdpStack.Appliance.Metrics.XskSocketMetrics;

namespace XdpStack.Appliance.Metrics;

/// <summary>The counters of <c>xdpstack run</c>: every worker's ports and activity, and the stack's NICs, neighbours and routes.</summary>
/// <remarks>Reads plain counters only their workers write (a moment's view, never torn); it takes no worker's lock except the neighbour caches' own, which control threads take anyway.</remarks>
internal sealed class RunMetricsSource(DataPlane plane, Punt.ControlPlanePunt? punt = null) : IMetricsSource
{
    private static readonly StatCounter[] s_counters = Enum.GetValues<StatCounter>();
    private static readonly WorkerDrop[] s_workerDrops = Enum.GetValues<WorkerDrop>();
    private static readonly NeighborState[] s_states = Enum.GetValues<NeighborState>();

    public void Collect(MetricsSample sample)
    {
        string[] nameOfNic = NicNames();
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (RunWorker worker in plane.Workers)
        {
            string w = Label(worker.Index);
            sample.Add(MetricCatalog.UmemFrames, worker.Umem.FrameCount, w);
            sample.Add(MetricCatalog.UmemFreeFrames, worker.PoolAvailable, w);
            WorkerActivity activity = worker.Activity;
            sample.Add(MetricCatalog.WorkerBusySeconds, activity.BusySeconds, w);
            sample.Add(MetricCatalog.WorkerSeconds, activity.SecondsSinceStart(now), w);
            sample.Add(MetricCatalog.WorkerPolls, Volatile.Read(ref activity.Polls), w);
            sample.Add(MetricCatalog.WorkerAllocatedBytes, Volatile.Read(ref worker.Counters.AllocatedBytes), w);
            sample.AddBatchSizes(w, activity.BatchSizes);
            foreach (RunPort port in worker.Ports)
                CollectPort(sample, worker, port, nameOfNic);
            RunWorkerCounters counters = worker.Counters;
            for (int nic = 1; nic < nameOfNic.Length && nic < counters.NicSlots; nic++)
            {
                foreach (WorkerDrop drop in s_workerDrops)
                    sample.Add(MetricCatalog.Drops, counters.Dropped(nic, drop), nameOfNic[nic], DropReasons.Of(drop));
            }
        }
        foreach (XdpNicLink link in plane.Links)
        {
            if (plane.Stack.TryGetNic(link.NicId, out Nic nic))
                CollectNic(sample, nic, nameOfNic);
        }
        CollectPunt(sample);
        Stack.Routing.RouteTable routes = plane.Stack.Routes;
        sample.Add(MetricCatalog.Routes, routes.Ipv4Routes.Count, "ipv4");
        sample.Add(MetricCatalog.Routes, routes.Ipv6Routes.Count, "ipv6");
    }

    private void CollectPort(MetricsSample sample, RunWorker worker, RunPort port, string[] nameOfNic)
    {
        string device = port.Link.Name;
        string queue = Label(port.Socket.QueueId);
        sample.Add(MetricCatalog.ReceivePackets, Volatile.Read(ref port.RxPackets), device, queue);
        sample.Add(MetricCatalog.ReceiveBytes, Volatile.Read(ref port.RxBytes), device, queue);
        sample.Add(MetricCatalog.TransmitPackets, Volatile.Read(ref port.TxPackets), device, queue);
        sample.Add(MetricCatalog.TransmitBytes, Volatile.Read(ref port.TxBytes), device, queue);
        sample.Add(MetricCatalog.Wakeups, Volatile.Read(ref port.TxWakeups), device, queue, "tx");
        sample.Add(MetricCatalog.Wakeups, Volatile.Read(ref port.RxWakeups), device, queue, "rx");
        sample.Add(MetricCatalog.Drops, Volatile.Read(ref port.TxRingFullDrops), device, DropReasons.TxRingFull);
        for (int egress = 1; egress < port.ForwardedTo.Length && egress < nameOfNic.Length; egress++)
            sample.Add(MetricCatalog.Forwarded, Volatile.Read(ref port.ForwardedTo[egress]), device, nameOfNic[egress]);
        XskSocketMetrics.Collect(sample, port.Socket, worker.Index, plane.AttachedMode(port.Socket.Device.IfIndex));
        // A sub-interface's share of this socket's frames, under its own name (its sends are the stack's, counted per NIC).
        foreach (XdpNicLink sub in port.Vlans?.Links ?? [])
        {
            int nic = sub.NicId.Value;
            sample.Add(MetricCatalog.ReceivePackets, Volatile.Read(ref worker.Counters.VlanRxPackets[nic]), sub.Name, queue);
            sample.Add(MetricCatalog.ReceiveBytes, Volatile.Read(ref worker.Counters.VlanRxBytes[nic]), sub.Name, queue);
        }
    }

    // Every device, punting or not, so that a rate never starts from a missing series.
    private void CollectPunt(MetricsSample sample)
    {
        foreach (XdpNicLink link in plane.Links)
        {
            Punt.PuntCounters? c = punt?.Taps.FirstOrDefault(t => t.Link == link)?.Counters;
            string device = link.Name;
            sample.Add(MetricCatalog.PuntFrames, c is null ? 0 : Volatile.Read(ref c.PuntedFrames), device, "to_kernel");
            sample.Add(MetricCatalog.PuntFrames, c is null ? 0 : Volatile.Read(ref c.InjectedFrames), device, "from_kernel");
            sample.Add(MetricCatalog.PuntFrames, c is null ? 0 : Volatile.Read(ref c.Suppressed), device, "suppressed");
            sample.Add(MetricCatalog.PuntFrames, c is null ? 0 : Volatile.Read(ref c.TapWriteFailed), device, "to_kernel_failed");
            sample.Add(MetricCatalog.PuntFrames, c is null ? 0 : Volatile.Read(ref c.InjectFailed), device, "from_kernel_failed");
            sample.Add(MetricCatalog.PuntBytes, c is null ? 0 : Volatile.Read(ref c.PuntedBytes), device, "to_kernel");
            sample.Add(MetricCatalog.PuntBytes, c is null ? 0 : Volatile.Read(ref c.InjectedBytes), device, "from_kernel");
        }
    }

    private static void CollectNic(MetricsSample sample, Nic nic, string[] nameOfNic)
    {
        string device = nameOfNic[nic.Id.Value];
        sample.Add(MetricCatalog.InterfaceUp, nic.Enabled ? 1 : 0, device);
        NicStats stats = nic.Stats;
        foreach (StatCounter counter in s_counters)
        {
            CounterRole role = DropReasons.Role(counter);
            long value = stats[counter];
            if (role.DropReason is string reason)
                sample.Add(MetricCatalog.Drops, value, device, reason);
            else if (role.IpFamily is string ipFamily)
                sample.Add(MetricCatalog.Of(role.Family), value, device, ipFamily, role.Type!);
            else
                sample.Add(MetricCatalog.Of(role.Family), value, device, role.Type!);
        }
        for (int egress = 1; egress < nameOfNic.Length; egress++)
            sample.Add(MetricCatalog.Forwarded, stats.ForwardedTo(egress), device, nameOfNic[egress]);
        Neighbors(sample, device, "ipv4", nic.Neighbors.Snapshot().Select(n => n.State));
        Neighbors(sample, device, "ipv6", nic.Ipv6Neighbors.Snapshot().Select(n => n.State));
        sample.Add(MetricCatalog.Arp, nic.Neighbors.Evictions, device, "cache_evicted");
        sample.Add(MetricCatalog.Ndp, nic.Ipv6Neighbors.Evictions, device, "cache_evicted");
    }

    private static void Neighbors(MetricsSample sample, string device, string family, IEnumerable<NeighborState> states)
    {
        var counts = new int[s_states.Length];
        foreach (NeighborState state in states)
            counts[(int)state]++;
        foreach (NeighborState state in s_states)
            sample.Add(MetricCatalog.Neighbors, counts[(int)state], device, family, StateLabel(state));
    }

    /// <summary>The <c>state</c> label: RFC 4861's names as docs/metrics.md lists them; gVisor's Unknown (just created, nothing sent) is still incomplete, its Unreachable is Linux's failed.</summary>
    internal static string StateLabel(NeighborState state) => state switch
    {
        NeighborState.Unknown => "incomplete",
        NeighborState.Incomplete => "incomplete",
        NeighborState.Reachable => "reachable",
        NeighborState.Stale => "stale",
        NeighborState.Delay => "delay",
        NeighborState.Probe => "probe",
        NeighborState.Static => "static",
        NeighborState.Unreachable => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    private string[] NicNames()
    {
        int slots = plane.Links.Count == 0 ? 1 : plane.Links.Max(l => l.NicId.Value) + 1;
        var names = new string[slots];
        Array.Fill(names, "");
        foreach (XdpNicLink link in plane.Links)
            names[link.NicId.Value] = link.Name;
        return names;
    }
}
