using XdpStack.Appliance.Workers;
using static XdpStack.Appliance.Metrics.XskSocketMetrics;

namespace XdpStack.Appliance.Metrics;

/// <summary>The counters of <c>xdpstack reflect</c>: one worker per queue, each with one socket and its own UMEM.</summary>
internal sealed class ReflectMetricsSource(Reflector reflector) : IMetricsSource
{
    public void Collect(MetricsSample sample)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        string device = reflector.Device.Name;
        for (int i = 0; i < reflector.Workers.Count; i++)
        {
            ReflectWorker worker = reflector.Workers[i];
            ref WorkerCounters c = ref reflector.Counters[i];
            string w = Label(i);
            string queue = Label(worker.QueueId);
            sample.Add(MetricCatalog.ReceivePackets, Volatile.Read(ref c.RxPackets), device, queue);
            sample.Add(MetricCatalog.ReceiveBytes, Volatile.Read(ref c.RxBytes), device, queue);
            sample.Add(MetricCatalog.TransmitPackets, Volatile.Read(ref c.TxPackets), device, queue);
            sample.Add(MetricCatalog.TransmitBytes, Volatile.Read(ref c.TxBytes), device, queue);
            sample.Add(MetricCatalog.Wakeups, Volatile.Read(ref c.TxWakeups), device, queue, "tx");
            sample.Add(MetricCatalog.Wakeups, Volatile.Read(ref c.RxWakeups), device, queue, "rx");
            sample.Add(MetricCatalog.Drops, Volatile.Read(ref c.ShortFrameDrops), device, DropReasons.MalformedLink);
            sample.Add(MetricCatalog.Drops, Volatile.Read(ref c.TxRingFullDrops), device, DropReasons.TxRingFull);
            sample.Add(MetricCatalog.UmemFrames, worker.Umem.FrameCount, w);
            sample.Add(MetricCatalog.UmemFreeFrames, worker.Umem.Frames.Available, w);
            WorkerActivity activity = worker.Activity;
            sample.Add(MetricCatalog.WorkerBusySeconds, activity.BusySeconds, w);
            sample.Add(MetricCatalog.WorkerSeconds, activity.SecondsSinceStart(now), w);
            sample.Add(MetricCatalog.WorkerPolls, Volatile.Read(ref activity.Polls), w);
            sample.AddBatchSizes(w, activity.BatchSizes);
            XskSocketMetrics.Collect(sample, worker.Socket, i, reflector.AttachMode);
        }
    }
}
