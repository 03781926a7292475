using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Neighbors;

/// <summary>What a <see cref="NeighborCache{TAddress}"/> needs from its protocol (ARP or NDP) and NIC: sending probes and sending or failing queued packets.</summary>
/// <remarks>
/// The cache never calls these under its lock, so an implementation may call back into the cache. Calls come from
/// whichever thread caused them: the clock's timer thread (retransmissions, timeouts), the thread that delivered a
/// confirmation (flushing queued packets), or a worker whose enqueue overflowed a queue. The packet spans lie in
/// pooled buffers that the cache reuses as soon as the call returns: copy what must outlive it.
/// </remarks>
public interface INeighborHandler<TAddress>
    where TAddress : struct, IEquatable<TAddress>
{
    /// <summary>Sends an ARP request or a Neighbor Solicitation for <paramref name="target"/>: to <paramref name="unicastTo"/>, or multicast/broadcast when that is <see cref="MacAddress.Zero"/>.</summary>
    void SendProbe(TAddress target, MacAddress unicastTo);

    /// <summary>Sends a packet that waited for resolution, now that <paramref name="neighbor"/> has link address <paramref name="linkAddress"/>; packets of one neighbor come in the order they were queued.</summary>
    /// <param name="neighbor">The neighbor.</param>
    /// <param name="linkAddress">Its link address.</param>
    /// <param name="packet">The packet, link header included.</param>
    /// <param name="tag">What the packet was queued with.</param>
    /// <param name="worker">The stack worker making the call (the one that received the resolving confirmation), or
    /// <see cref="NicStats.ControlWorker"/>; send through it so the packet leaves before that worker's later ones.</param>
    void SendPending(TAddress neighbor, MacAddress linkAddress, ReadOnlySpan<byte> packet, int tag, int worker);

    /// <summary>Reports a queued packet that will not be sent, e.g. to answer ICMP host unreachable for <see cref="PendingFailure.ResolutionFailed"/>.</summary>
    void PendingFailed(TAddress neighbor, ReadOnlySpan<byte> packet, int tag, PendingFailure reason);
}
