namespace XdpStack.Appliance.Metrics;

/// <summary>Something whose counters a scrape reads: the run data plane, the reflector, the process itself.</summary>
/// <remarks>Called on the scraping control thread, never on a worker; it reads the workers' plain counters and may allocate.</remarks>
internal interface IMetricsSource
{
    /// <summary>Adds this source's current totals to <paramref name="sample"/>.</summary>
    void Collect(MetricsSample sample);
}
