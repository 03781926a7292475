using System.Diagnostics;
using System.Globalization;
using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Cli;

/// <summary>Prints per-queue rates while the reflector runs, and a summary at the end.</summary>
/// <remarks>Runs on the control thread; it only reads the workers' counters.</remarks>
internal static class StatsPrinter
{
    /// <summary>
    /// Prints one line per queue every <paramref name="interval"/> (none when zero) until
    /// <paramref name="stop"/> is set or <paramref name="duration"/> has passed. Returns the run time.
    /// </summary>
    public static TimeSpan Run(Reflector reflector, WaitHandle stop, TimeSpan? duration, TimeSpan interval, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        CounterSnapshot[] previous = reflector.Snapshot();
        TimeSpan previousAt = TimeSpan.Zero;
        TimeSpan nextPrint = interval;
        while (true)
        {
            TimeSpan now = clock.Elapsed;
            TimeSpan wait = Timeout.InfiniteTimeSpan;
            if (interval > TimeSpan.Zero)
                wait = nextPrint - now;
            if (duration is TimeSpan d && (wait == Timeout.InfiniteTimeSpan || d - now < wait))
                wait = d - now;
            if (wait < TimeSpan.Zero)
                wait = TimeSpan.Zero;
            if (stop.WaitOne(wait))
                break;
            now = clock.Elapsed;
            if (interval > TimeSpan.Zero && now >= nextPrint)
            {
                CounterSnapshot[] current = reflector.Snapshot();
                double seconds = (now - previousAt).TotalSeconds;
                for (int i = 0; i < current.Length; i++)
                    output.WriteLine(RateLine(reflector.Workers[i].QueueId, current[i] - previous[i], seconds));
                previous = current;
                previousAt = now;
                nextPrint += interval;
                if (nextPrint < now)
                    nextPrint = now + interval;
            }
            if (duration is TimeSpan end && now >= end)
                break;
        }
        return clock.Elapsed;
    }

    public static string RateLine(int queue, CounterSnapshot delta, double seconds) =>
        string.Create(CultureInfo.InvariantCulture,
            $"q{queue} rx {Rate(delta.RxPackets, seconds)} pps tx {Rate(delta.TxPackets, seconds)} pps");

    public static string SummaryLine(int queue, CounterSnapshot total, double seconds) =>
        string.Create(CultureInfo.InvariantCulture,
            $"q{queue} rx {total.RxPackets} packets ({total.RxBytes} bytes, {Rate(total.RxPackets, seconds)} pps average) tx {total.TxPackets} packets, dropped {total.Dropped}, tx wakeups {total.TxWakeups}, idle polls {total.IdlePolls}");

    private static long Rate(ulong packets, double seconds) => Rates.PerSecond(packets, seconds);
}
