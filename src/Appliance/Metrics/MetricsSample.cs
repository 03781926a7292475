namespace XdpStack.Appliance.Metrics;

/// <summary>One scrape's values as the sources report them: totals per family and label set, summed when several sources (workers) report the same set.</summary>
internal sealed class MetricsSample
{
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong[]> _batchSizes = new(StringComparer.Ordinal);

    /// <summary>The label values and summed value of one series.</summary>
    public sealed class Series(MetricFamily family, string[] labels)
    {
        public MetricFamily Family { get; } = family;

        public string[] Labels { get; } = labels;

        public double Value { get; set; }
    }

    public IEnumerable<Series> All => _series.Values;

    /// <summary>The kernel route sync's cumulative 1 ms latency counts and largest latency (<c>RouteLatencyHistogram</c>), when a sync runs.</summary>
    public (long[] Counts, double MaxMilliseconds)? KernelRouteLatency { get; set; }

    /// <summary>Cumulative RX batch-size counts per worker label: [n] is the batches of n frames.</summary>
    public IReadOnlyDictionary<string, ulong[]> BatchSizes => _batchSizes;

    /// <summary>Adds <paramref name="value"/> to the series of <paramref name="family"/> with <paramref name="labels"/> (in the family's label order).</summary>
    public void Add(MetricFamily family, double value, params string[] labels)
    {
        if (labels.Length != family.Labels.Length)
            throw new ArgumentException($"{family.Name} takes {family.Labels.Length} label(s), got {labels.Length}", nameof(labels));
        string key = family.Name + "\0" + string.Join('\0', labels);
        if (!_series.TryGetValue(key, out Series? series))
            _series[key] = series = new Series(family, labels);
        series.Value += value;
    }

    /// <summary>Adds one worker's cumulative RX batch-size counts (index = frames in the batch).</summary>
    public void AddBatchSizes(string worker, ReadOnlySpan<ulong> counts)
    {
        if (!_batchSizes.TryGetValue(worker, out ulong[]? sum) || sum.Length < counts.Length)
        {
            ulong[] grown = new ulong[counts.Length];
            sum?.CopyTo(grown, 0);
            _batchSizes[worker] = sum = grown;
        }
        for (int i = 0; i < counts.Length; i++)
            sum[i] += Volatile.Read(in counts[i]);
    }

    /// <summary>The summed value of one series, or null when no source reported it.</summary>
    public double? Get(MetricFamily family, params string[] labels) =>
        _series.TryGetValue(family.Name + "\0" + string.Join('\0', labels), out Series? s) ? s.Value : null;

    public void Clear()
    {
        _series.Clear();
        _batchSizes.Clear();
        KernelRouteLatency = null;
    }
}
