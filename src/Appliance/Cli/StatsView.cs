using System.Globalization;
using XdpStack.Appliance.Control;

namespace XdpStack.Appliance.Cli;

/// <summary>The screen of <c>xdpstack stats</c>: rates per device and queue, per worker, and drops by reason, from two samples.</summary>
/// <remarks>Pure: the same two samples give the same lines, so the layout is tested without a terminal or an appliance.</remarks>
internal static class StatsView
{
    /// <summary>The lines for the interval from <paramref name="previous"/> to <paramref name="current"/> (the appliance's clock).</summary>
    public static IReadOnlyList<string> Render(StatsSample previous, StatsSample current, string title)
    {
        double seconds = current.Time - previous.Time;
        var lines = new List<string>
        {
            title,
            Invariant($"{"DEVICE",-15} {"QUEUE",5} {"MODE",-14} {"RX pps",8} {"RX bit/s",9} {"TX pps",8} {"TX bit/s",9}"),
        };
        foreach (IGrouping<string, QueueSample> device in current.Queues.GroupBy(q => q.Interface))
        {
            ulong rx = 0, rxBytes = 0, tx = 0, txBytes = 0;
            int rows = 0;
            foreach (QueueSample q in device.OrderBy(q => q.Queue))
            {
                QueueSample? before = previous.Queues.FirstOrDefault(p => p.Interface == q.Interface && p.Queue == q.Queue);
                ulong dRx = Delta(q.RxPackets, before?.RxPackets), dRxBytes = Delta(q.RxBytes, before?.RxBytes);
                ulong dTx = Delta(q.TxPackets, before?.TxPackets), dTxBytes = Delta(q.TxBytes, before?.TxBytes);
                rx += dRx;
                rxBytes += dRxBytes;
                tx += dTx;
                txBytes += dTxBytes;
                rows++;
                lines.Add(Row(q.Interface, q.Queue.ToString(CultureInfo.InvariantCulture), q.Mode + "/" + q.Attach, dRx, dRxBytes, dTx, dTxBytes, seconds));
            }
            if (rows > 1)
                lines.Add(Row(device.Key, "all", "", rx, rxBytes, tx, txBytes, seconds));
        }

        lines.Add("");
        lines.Add(Invariant($"{"WORKER",6} {"QUEUE",5} {"CPU",4} {"BUSY",6} {"RX pps",8} {"batches/s",9} {"frames/batch",12} {"idle polls/s",12}"));
        foreach (WorkerSample w in current.Workers)
        {
            WorkerSample? before = previous.Workers.FirstOrDefault(p => p.Worker == w.Worker);
            ulong dRx = Delta(w.RxPackets, before?.RxPackets), dBatches = Delta(w.Batches, before?.Batches), dIdle = Delta(w.IdlePolls, before?.IdlePolls);
            string perBatch = dBatches == 0 ? "-" : ((double)dRx / dBatches).ToString("0.0", CultureInfo.InvariantCulture);
            // Busy: the share of the interval the worker spent on rounds that moved frames.
            double span = w.Seconds - (before?.Seconds ?? 0);
            string busy = span <= 0 ? "-" : Math.Clamp((w.BusySeconds - (before?.BusySeconds ?? 0)) / span * 100, 0, 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
            lines.Add(Invariant($"{w.Worker,6} {w.Queue,5} {(w.Cpu is int cpu ? cpu.ToString(CultureInfo.InvariantCulture) : "-"),4} {busy,6} {Rate(dRx, seconds),8} {Rate(dBatches, seconds),9} {perBatch,12} {Rate(dIdle, seconds),12}"));
        }

        if (current.Punt is { Count: > 0 } punted)
        {
            lines.Add("");
            lines.Add(Invariant($"{"PUNT",-15} {"TAP",-15} {"to kernel pps",13} {"bit/s",9} {"from kernel pps",15} {"bit/s",9} {"suppressed/s",12}"));
            foreach (PuntSample p in punted)
            {
                PuntSample? before = previous.Punt?.FirstOrDefault(b => b.Interface == p.Interface);
                lines.Add(Invariant($"{p.Interface,-15} {p.Tap,-15} {Rate(Delta(p.ToKernelFrames, before?.ToKernelFrames), seconds),13} {BitRate(Delta(p.ToKernelBytes, before?.ToKernelBytes), seconds),9} {Rate(Delta(p.FromKernelFrames, before?.FromKernelFrames), seconds),15} {BitRate(Delta(p.FromKernelBytes, before?.FromKernelBytes), seconds),9} {Rate(Delta(p.Suppressed, before?.Suppressed), seconds),12}"));
            }
        }

        lines.Add("");
        lines.Add(Invariant($"{"DROPS (reason)",-22} {"DEVICE",-15} {"/s",8} {"total",12}"));
        int shown = 0;
        foreach (DropSample d in current.Drops)
        {
            if (d.Count == 0)
                continue;
            DropSample? before = previous.Drops.FirstOrDefault(p => p.Reason == d.Reason && p.Interface == d.Interface);
            ulong delta = Delta((ulong)d.Count, (ulong?)before?.Count);
            lines.Add(Invariant($"{d.Reason,-22} {(d.Interface.Length == 0 ? "-" : d.Interface),-15} {Rate(delta, seconds),8} {d.Count,12}"));
            shown++;
        }
        if (shown == 0)
            lines.Add("(none)");
        return lines;
    }

    private static string Row(string device, string queue, string mode, ulong rx, ulong rxBytes, ulong tx, ulong txBytes, double seconds) =>
        Invariant($"{device,-15} {queue,5} {mode,-14} {Rate(rx, seconds),8} {BitRate(rxBytes, seconds),9} {Rate(tx, seconds),8} {BitRate(txBytes, seconds),9}");

    // A counter that went backwards (an appliance restarted behind the same socket) counts from zero.
    private static ulong Delta(ulong now, ulong? before) => before is ulong b && now >= b ? now - b : now;

    private static string Rate(ulong delta, double seconds) => seconds <= 0 ? "-" : Rates.Si(delta / seconds);

    private static string BitRate(ulong bytes, double seconds) => seconds <= 0 ? "-" : Rates.Si(bytes * 8.0 / seconds);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
