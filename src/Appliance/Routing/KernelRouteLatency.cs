namespace XdpStack.Appliance.Routing;

/// <summary>The kernel route sync's notification-to-publication latency for <c>show route-summary</c>: changes counted, p50, p99 and max in milliseconds, and the 1 ms bucket counts (<see cref="RouteLatencyHistogram"/>).</summary>
internal sealed record KernelRouteLatency(long Changes, double? P50Milliseconds, double? P99Milliseconds, double MaxMilliseconds, long[] Counts);
