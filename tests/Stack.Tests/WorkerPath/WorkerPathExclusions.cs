namespace XdpStack.Stack.Tests.WorkerPath;

/// <summary>The parts of the worker path that may take a lock or use <c>Interlocked</c>, each with the reason it is not per packet; README.md lists the same.</summary>
/// <remarks>
/// <see cref="WorkerPathInterlockedTests"/> does not follow these methods (and fails if one is no longer reached, so
/// the list cannot go stale); <see cref="WorkerPathLockTests"/> does not drive them while it holds the stack's locks.
/// </remarks>
internal static class WorkerPathExclusions
{
    public static readonly IReadOnlyDictionary<string, string> Methods = new Dictionary<string, string>
    {
        ["ILinkEndpoint.*"] = "the device: a link endpoint's TX ring is the driver's, not the stack's (ChannelEndpoint, the test double, guards its ring with a lock)",
        ["NeighborCache.Resolve"] = "a next hop not yet resolved: the frame is queued under the neighbour cache's lock while NUD resolves it",
        ["NeighborCache.OnStaleUse"] = "the first use of a Stale neighbour moves it to Delay under the cache's lock (RFC 4861 §7.3.3), once per entry per reachable time",
        ["NeighborCache.UpdateFromProbe"] = "an ARP request or Neighbor Solicitation from a new neighbour, or with a changed MAC, is learned under the cache's lock",
        ["NeighborCache.HandleConfirmation"] = "an ARP reply or Neighbor Advertisement updates the cache under its lock",
        ["NeighborCache.TryGetInfo"] = "a Neighbor Advertisement without a target link-layer option reads its entry under the cache's lock",
        ["TcpSocket.Waiter.WakeParked"] = "only while the application is parked on a socket, or when its connection ends: SemaphoreSlim.Release takes the semaphore's lock",
        ["TcpSocketListener.WakeParked"] = "only while the application is parked in AcceptAsync, once per accepted connection: SemaphoreSlim.Release takes the semaphore's lock",
        ["UdpEndpoint.WakeParked"] = "only while the application is parked in WaitAsync: SemaphoreSlim.Release takes the semaphore's lock",
        ["Ipv6FragmentIdentification.NextControlSequence"] = "the control threads' shared lane of IPv6 fragment identifications (worker -1); workers advance their own counter",
        ["NicStats.AddToControlRow"] = "the control row (worker -1), shared by control threads; workers pass their own index and write their own row",
    };
}
