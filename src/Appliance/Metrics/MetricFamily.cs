namespace XdpStack.Appliance.Metrics;

/// <summary>One exported family: its name, type, help text and label names (docs/metrics.md lists the same).</summary>
internal sealed record MetricFamily(string Name, MetricKind Kind, string Help, params string[] Labels);
