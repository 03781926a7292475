using System.Diagnostics;
using System.Globalization;
using XdpStack.Appliance.Config;
using XdpStack.Xdp.Routes;

namespace XdpStack.Appliance.Routing;

/// <summary>Mirrors one kernel routing table into the stack: a dump at start, then notifications, on a control thread of its own.</summary>
/// <remarks>
/// <para>
/// Bursts coalesce: the thread drains every queued notification into <see cref="KernelFibMirror"/>, and publishes one
/// route table (<see cref="RouteRegistry.SetKernel"/>) once no notification came for <see cref="QuietMilliseconds"/>,
/// or <see cref="MaxDelayMilliseconds"/> after the first unpublished change while a burst goes on. A daemon
/// installing 100,000 routes thus costs a few dozen publications, not 100,000. A publication that takes longer than
/// that (a table of a million routes copies its route list) makes the next one take everything that came meanwhile.
/// </para>
/// <para>
/// When the notification socket overruns (ENOBUFS) the thread dumps the table again and reconciles: the mirror becomes
/// the dump, and every prefix that was or is in it is republished, so nothing lost stays wrong. The same happens for
/// nothing but a remap when <see cref="NicIndexMap.Version"/> moves.
/// </para>
/// <para>
/// Each change is timed from when the thread read its notification to the return of the publication that holds it
/// (<see cref="RouteLatencyHistogram"/>, in <c>show route-summary</c>): from then the stack's route table has it, and
/// a fast path whose snapshot is older hands its batches to the full stack, which uses it. Changes found by a dump
/// are not timed (their notification never came).
/// </para>
/// <para>
/// The thread never touches a worker; it publishes snapshots as every control thread does. An unexpected failure
/// ends the process (<see cref="Environment.FailFast(string, Exception)"/>) rather than leave a silently stale table.
/// </para>
/// </remarks>
internal sealed class KernelRouteSync : IDisposable
{
    /// <summary>How long the notification stream must be quiet before a publication.</summary>
    public const int QuietMilliseconds = 20;

    /// <summary>The longest a change waits for its publication while a burst goes on.</summary>
    /// <remarks>
    /// Most of a publication's cost is per change (the mirror, the registry, the LPM), which batching does not save,
    /// so the wait stays short: it only gathers a burst's changes into a few publications.
    /// </remarks>
    public const int MaxDelayMilliseconds = 30;

    // How often an idle thread looks at the stop flag and the NIC map.
    private const int IdleMilliseconds = 100;

    private readonly KernelRouteMonitor _monitor;
    private readonly RouteRegistry _routes;
    private readonly NicIndexMap _nics;
    private readonly KernelRoutesConfig _config;
    private readonly Action<string> _report;
    private readonly KernelRouteSyncCounters _counters = new();
    private readonly KernelFibMirror _mirror;
    private readonly List<KernelRouteChange> _changes = [];
    private readonly RouteLatencyHistogram _latency = new();
    // Receive batches not yet published: when each was read and how many changes it held.
    private readonly List<(long Arrived, int Changes)> _unpublished = [];
    private Thread? _thread;
    private volatile bool _stopping;
    private long _nicVersion;
    private long _notUnicastReported;
    private KernelRouteSyncStatus _status;

    private KernelRouteSync(KernelRouteMonitor monitor, RouteRegistry routes, NicIndexMap nics, KernelRoutesConfig config, Action<string> report)
    {
        _monitor = monitor;
        _routes = routes;
        _nics = nics;
        _config = config;
        _report = report;
        _mirror = new KernelFibMirror(config.Table, nics, _counters);
        _status = Status();
    }

    /// <summary>The latest account, for <c>show routes</c>; any thread.</summary>
    public KernelRouteSyncStatus Current => Volatile.Read(ref _status);

    /// <summary>Subscribes, dumps and publishes the table as it is now (on the calling thread, so the routes are in place when this returns), then follows changes on a new thread.</summary>
    /// <remarks>Call from a thread in the appliance's network namespace: the sockets, and the thread, belong to it.</remarks>
    public static KernelRouteSync Start(RouteRegistry routes, NicIndexMap nics, KernelRoutesConfig config, Action<string> report)
    {
        var monitor = new KernelRouteMonitor(config.Ipv4, config.Ipv6);
        var sync = new KernelRouteSync(monitor, routes, nics, config, report);
        try
        {
            sync._nicVersion = nics.Version;
            long started = Stopwatch.GetTimestamp();
            sync.Resync();
            (int v4, int v6) = sync._mirror.Count;
            report(string.Create(CultureInfo.InvariantCulture,
                $"xdpstack: kernel routes: following table {config.TableName} ({Families(config)}): {v4} IPv4 and {v6} IPv6 routes at start (dumped and published in {Stopwatch.GetElapsedTime(started).TotalSeconds:F2} s)"));
            sync._thread = new Thread(sync.Run) { IsBackground = true, Name = "xdpstack kernel routes" };
            sync._thread.Start();
        }
        catch
        {
            monitor.Dispose();
            throw;
        }
        return sync;
    }

    public void Dispose()
    {
        _stopping = true;
        _thread?.Join();
        _monitor.Dispose();
    }

    private void Run()
    {
        try
        {
            long firstChange = 0;
            while (!_stopping)
            {
                _changes.Clear();
                KernelRouteReceiveResult result = _monitor.Receive(_changes, _mirror.HasChanges ? QuietMilliseconds : IdleMilliseconds);
                if (result == KernelRouteReceiveResult.Overrun)
                {
                    _report("xdpstack: kernel routes: notifications overran the socket buffer (ENOBUFS); dumping the table again");
                    Resync();
                    continue;
                }
                if (_changes.Count > 0)
                    _unpublished.Add((Stopwatch.GetTimestamp(), _changes.Count));
                foreach (KernelRouteChange change in _changes)
                    _mirror.Apply(change);
                if (_nics.Version != _nicVersion)
                {
                    _nicVersion = _nics.Version;
                    _mirror.MarkAllDirty();
                }
                if (!_mirror.HasChanges)
                {
                    // Nothing to publish (a blackhole, another table's route): its count is still news now, not at
                    // the next publication, which may never come.
                    if (_changes.Count > 0)
                    {
                        Volatile.Write(ref _status, Status());
                        ReportNotUnicast();
                    }
                    // Those changes needed no publication, so they are not timed.
                    _unpublished.Clear();
                    firstChange = 0;
                    continue;
                }
                if (firstChange == 0)
                    firstChange = Stopwatch.GetTimestamp();
                if (result == KernelRouteReceiveResult.Timeout || Stopwatch.GetElapsedTime(firstChange).TotalMilliseconds >= MaxDelayMilliseconds)
                {
                    Publish();
                    firstChange = 0;
                }
            }
        }
        catch (Exception e)
        {
            Environment.FailFast("xdpstack: the kernel route sync failed", e);
        }
    }

    private void Resync()
    {
        _counters.Resyncs++;
        _changes.Clear();
        // Queued notifications are older than the dump about to be read; applied after it they could undo it.
        _monitor.DiscardQueued();
        _unpublished.Clear();
        _monitor.Dump(_changes);
        _mirror.ReplaceAll(_changes);
        _changes.Clear();
        Publish();
    }

    private void Publish()
    {
        var (v4, v6) = _mirror.TakeDirty();
        if (_routes.SetKernel(v4, v6))
            _counters.Publications++;
        long published = Stopwatch.GetTimestamp();
        foreach ((long arrived, int changes) in _unpublished)
            _latency.Record(Stopwatch.GetElapsedTime(arrived, published).TotalMilliseconds, changes);
        _unpublished.Clear();
        Volatile.Write(ref _status, Status());
        ReportNotUnicast();
    }

    private void ReportNotUnicast()
    {
        long notUnicast = _counters.NotUnicastTotal;
        if (notUnicast != _notUnicastReported)
        {
            _notUnicastReported = notUnicast;
            _report("xdpstack: kernel routes: not mirrored, as they do not forward to a next hop: "
                + string.Join(", ", _counters.NotUnicast.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Value} {p.Key}"))));
        }
    }

    private KernelRouteSyncStatus Status()
    {
        (int v4, int v6) = _mirror.Count;
        KernelRouteCounters m = _monitor.Counters;
        return new KernelRouteSyncStatus(_config.TableName, v4, v6, m.Messages, m.Malformed, m.Overruns, _counters.Resyncs,
            _counters.Publications, _counters.OtherTable, _counters.Cloned, _counters.NoOwnedInterface, _counters.OtherFamilyGateway,
            new Dictionary<string, long>(_counters.NotUnicast, StringComparer.Ordinal), Latency());
    }

    private KernelRouteLatency Latency()
    {
        long[] counts = _latency.Counts;
        double max = _latency.MaxMilliseconds;
        return new KernelRouteLatency(counts.Sum(), RouteLatencyHistogram.Quantile(counts, 0.5, max),
            RouteLatencyHistogram.Quantile(counts, 0.99, max), max, counts);
    }

    private static string Families(KernelRoutesConfig config) => (config.Ipv4, config.Ipv6) switch
    {
        (true, true) => "IPv4 and IPv6",
        (true, false) => "IPv4 only",
        _ => "IPv6 only",
    };
}
