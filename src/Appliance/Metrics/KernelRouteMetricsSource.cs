using XdpStack.Appliance.Routing;

namespace XdpStack.Appliance.Metrics;

/// <summary>The kernel route sync's notification-to-publication latency, read from its latest status at scrape time.</summary>
internal sealed class KernelRouteMetricsSource(KernelRouteSync sync) : IMetricsSource
{
    public void Collect(MetricsSample sample)
    {
        KernelRouteLatency latency = sync.Current.Latency;
        sample.KernelRouteLatency = (latency.Counts, latency.MaxMilliseconds);
    }
}
