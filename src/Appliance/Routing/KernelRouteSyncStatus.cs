namespace XdpStack.Appliance.Routing;

/// <summary>A moment's account of the kernel route sync, published by its thread for <c>show routes</c>.</summary>
internal sealed record KernelRouteSyncStatus(
    string Table,
    int Ipv4Routes,
    int Ipv6Routes,
    long Messages,
    long Malformed,
    long Overruns,
    long Resyncs,
    long Publications,
    long OtherTable,
    long Cloned,
    long NoOwnedInterface,
    long OtherFamilyGateway,
    IReadOnlyDictionary<string, long> NotUnicast,
    KernelRouteLatency Latency);
