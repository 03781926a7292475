using System.Globalization;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Metrics;

/// <summary>The families every AF_XDP socket exports alike, under run and reflect: its info, the kernel's XDP_STATISTICS and its rings.</summary>
internal static class XskSocketMetrics
{
    /// <summary>Adds <paramref name="socket"/>'s info, kernel counters and ring levels.</summary>
    /// <remarks>XDP_STATISTICS is one getsockopt per socket per scrape, on the scraping thread.</remarks>
    public static void Collect(MetricsSample sample, XskSocket socket, int worker, XdpAttachMode? attach)
    {
        string device = socket.Device.Name;
        string queue = Label(socket.QueueId);
        sample.Add(MetricCatalog.SocketInfo, 1, device, queue, Label(worker),
            socket.ZeroCopy ? "zerocopy" : "copy",
            attach switch { XdpAttachMode.Native => "native", XdpAttachMode.Generic => "generic", _ => "unknown" },
            Bool(socket.NeedWakeup), Bool(socket.BusyPoll));

        XdpStatistics stats;
        try
        {
            stats = socket.GetStatistics();
        }
        catch (Exception e) when (e is XdpException or ObjectDisposedException)
        {
            // A socket closing under the scrape: its counters are gone; the others still export.
            return;
        }
        sample.Add(MetricCatalog.XskRxDropped, stats.RxDropped, device, queue);
        sample.Add(MetricCatalog.XskRxInvalid, stats.RxInvalidDescs, device, queue);
        sample.Add(MetricCatalog.XskTxInvalid, stats.TxInvalidDescs, device, queue);
        sample.Add(MetricCatalog.XskRxRingFull, stats.RxRingFull, device, queue);
        sample.Add(MetricCatalog.XskFillRingEmpty, stats.RxFillRingEmptyDescs, device, queue);
        sample.Add(MetricCatalog.XskTxRingEmpty, stats.TxRingEmptyDescs, device, queue);

        Ring(sample, device, queue, "rx", socket.Rx.Entries, socket.Rx.Size);
        Ring(sample, device, queue, "tx", socket.Tx.Entries, socket.Tx.Size);
        // A socket sharing a same-queue socket's fill and completion rings would report them twice.
        if (socket.OwnsFillAndCompletion)
        {
            Ring(sample, device, queue, "fill", socket.Fill.Entries, socket.Fill.Size);
            Ring(sample, device, queue, "completion", socket.Completion.Entries, socket.Completion.Size);
        }
    }

    public static string Label(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";

    private static void Ring(MetricsSample sample, string device, string queue, string ring, int entries, uint size)
    {
        sample.Add(MetricCatalog.RingEntries, entries, device, queue, ring);
        sample.Add(MetricCatalog.RingSize, size, device, queue, ring);
    }
}
