namespace XdpStack.Appliance.Metrics;

/// <summary>The Prometheus type of an exported family.</summary>
internal enum MetricKind
{
    Counter,
    Gauge,
    Histogram,
}
