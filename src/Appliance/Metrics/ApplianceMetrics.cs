using Prometheus;

namespace XdpStack.Appliance.Metrics;

/// <summary>The prometheus-net registry of one <c>xdpstack</c> process: every family of <see cref="MetricCatalog"/>, moved at scrape time from the sources' plain counters.</summary>
/// <remarks>
/// Workers never touch this class. A scrape runs the registry's before-collect callback on the scraping thread: it
/// asks every attached source for its totals (summed over workers by <see cref="MetricsSample"/>), moves each counter
/// to its new total with <c>IncTo</c> (which never goes backwards) and sets each gauge. RX batch sizes arrive as
/// cumulative counts per size and go into the histogram as <c>Observe(size, new batches)</c>; the kernel route sync's
/// 1 ms latency counts likewise, each at its bucket's upper bound (so <c>_sum</c> is high by under 1 ms per change),
/// and those over 1 s at the largest latency seen. One lock serialises
/// scrapes with <see cref="Attach"/> and the detaching of a source, so a source being torn down (its rings unmapped)
/// is never read.
/// </remarks>
internal sealed class ApplianceMetrics
{
    /// <summary>The largest RX batch any command takes (reflect's <c>--batch</c> limit); the histogram's top bucket.</summary>
    public const int MaxBatch = 1024;

    private readonly Lock _gate = new();
    private readonly List<IMetricsSource> _sources = [];
    private readonly Dictionary<string, Collector> _collectors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong[]> _observedBatches = new(StringComparer.Ordinal);
    private long[] _observedLatency = [];
    private readonly MetricsSample _sample = new();
    private Exception? _collectFailure;

    /// <param name="families">The families this command serves (<see cref="MetricCatalog.All"/> for run, <see cref="MetricCatalog.Reflect"/>); a series of another family is an error.</param>
    /// <param name="defaultMetrics">Whether to add prometheus-net's dotnet_* and process_* families (off in unit tests, for exact output).</param>
    public ApplianceMetrics(IReadOnlyList<MetricFamily> families, bool defaultMetrics = true)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        if (defaultMetrics)
            DotNetStats.Register(Registry);
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        foreach (MetricFamily family in families)
        {
            _collectors[family.Name] = family.Kind switch
            {
                MetricKind.Counter => factory.CreateCounter(family.Name, family.Help, family.Labels),
                MetricKind.Gauge => factory.CreateGauge(family.Name, family.Help, family.Labels),
                MetricKind.Histogram => factory.CreateHistogram(family.Name, family.Help, family.Labels,
                    new HistogramConfiguration
                    {
                        Buckets = ReferenceEquals(family, MetricCatalog.KernelRouteLatency)
                            ? MetricCatalog.KernelRouteLatencyBuckets : MetricCatalog.BatchBuckets(MaxBatch),
                    }),
                _ => throw new InvalidOperationException(family.Kind.ToString()),
            };
        }
        Registry.AddBeforeCollectCallback(Collect);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Adds <paramref name="source"/> to every scrape until the returned handle is disposed (which waits for a scrape in progress).</summary>
    public IDisposable Attach(IMetricsSource source)
    {
        lock (_gate)
            _sources.Add(source);
        return new Detacher(this, source);
    }

    /// <summary>Writes the text exposition format to <paramref name="stream"/>, running the collection first.</summary>
    /// <exception cref="InvalidOperationException">A source failed during this collection (prometheus-net itself does not pass a callback's exception on).</exception>
    public async Task ExportAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        await Registry.CollectAndExportAsTextAsync(stream, cancellationToken).ConfigureAwait(false);
        Exception? failure;
        lock (_gate)
        {
            failure = _collectFailure;
            _collectFailure = null;
        }
        if (failure is not null)
            throw new InvalidOperationException("metrics collection failed: " + failure.Message, failure);
    }

    /// <summary>The before-collect callback: reads every source and moves the exported series.</summary>
    private void Collect()
    {
        lock (_gate)
        {
            try
            {
                _sample.Clear();
                foreach (IMetricsSource source in _sources)
                    source.Collect(_sample);
                Apply(_sample);
            }
            catch (Exception e)
            {
                _collectFailure = e;
            }
        }
    }

    private void Apply(MetricsSample sample)
    {
        foreach (MetricsSample.Series series in sample.All)
        {
            if (!_collectors.TryGetValue(series.Family.Name, out Collector? collector))
                throw new InvalidOperationException($"{series.Family.Name} is not served by this command");
            switch (collector)
            {
                case Counter counter:
                    Child(counter, series.Labels).IncTo(series.Value);
                    break;
                case Gauge gauge:
                    Child(gauge, series.Labels).Set(series.Value);
                    break;
            }
        }
        if (sample.KernelRouteLatency is { } latency)
            ObserveKernelRouteLatency(latency.Counts, latency.MaxMilliseconds);
        if (sample.BatchSizes.Count == 0)
            return;
        var histogram = (Histogram)_collectors[MetricCatalog.RxBatchSize.Name];
        foreach ((string worker, ulong[] counts) in sample.BatchSizes)
        {
            if (!_observedBatches.TryGetValue(worker, out ulong[]? seen) || seen.Length < counts.Length)
            {
                ulong[] grown = new ulong[counts.Length];
                seen?.CopyTo(grown, 0);
                _observedBatches[worker] = seen = grown;
            }
            Histogram.Child child = histogram.WithLabels(worker);
            for (int size = 1; size < counts.Length; size++)
            {
                // A count only grows; a smaller one (never expected) is ignored rather than observed negatively.
                if (counts[size] > seen[size])
                {
                    child.Observe(size, (long)(counts[size] - seen[size]));
                    seen[size] = counts[size];
                }
            }
        }
    }

    private void ObserveKernelRouteLatency(long[] counts, double maxMilliseconds)
    {
        if (!_collectors.TryGetValue(MetricCatalog.KernelRouteLatency.Name, out Collector? collector))
            throw new InvalidOperationException($"{MetricCatalog.KernelRouteLatency.Name} is not served by this command");
        var histogram = (Histogram)collector;
        if (_observedLatency.Length < counts.Length)
            Array.Resize(ref _observedLatency, counts.Length);
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] <= _observedLatency[i])
                continue;
            // Bucket i holds (i, i + 1] ms; the last one everything over, which the largest latency stands for.
            double seconds = i < counts.Length - 1 ? (i + 1) / 1000.0 : maxMilliseconds / 1000.0;
            histogram.Observe(seconds, counts[i] - _observedLatency[i]);
            _observedLatency[i] = counts[i];
        }
    }

    private static ICounter Child(Counter counter, string[] labels) =>
        labels.Length == 0 ? counter : counter.WithLabels(labels);

    private static IGauge Child(Gauge gauge, string[] labels) =>
        labels.Length == 0 ? gauge : gauge.WithLabels(labels);

    private sealed class Detacher(ApplianceMetrics owner, IMetricsSource source) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            lock (owner._gate)
            {
                if (_done)
                    return;
                owner._sources.Remove(source);
                _done = true;
            }
        }
    }
}
