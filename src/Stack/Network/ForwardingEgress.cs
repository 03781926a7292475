using XdpStack.Stack.Link;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network;

/// <summary>The link-layer step both IP forwarders end with: find the next hop's MAC and write the frame's Ethernet addresses for the egress NIC.</summary>
internal static class ForwardingEgress
{
    /// <summary>
    /// Writes the next hop's MAC and the egress link's own into <paramref name="frame"/>; false when
    /// the next hop is not yet resolved and <paramref name="neighbors"/> queued a copy of the frame instead.
    /// </summary>
    /// <remarks>
    /// The cache keeps a copy, original link header included, so that if resolution fails the
    /// family's unreachable error (ICMP Host Unreachable, ICMPv6 Address Unreachable) goes back to
    /// the sender's MAC; the tag names the ingress NIC it goes out of. A link that needs no resolution
    /// takes the zero MAC.
    /// </remarks>
    public static bool TryAddress<TAddress>(Nic ingress, Nic egress, NeighborCache<TAddress> neighbors, TAddress nextHop, Span<byte> frame)
        where TAddress : struct, IEquatable<TAddress>
    {
        MacAddress nextHopMac;
        if ((egress.Link.Capabilities & LinkCapabilities.ResolutionRequired) == 0)
            nextHopMac = MacAddress.Zero;
        else if (!neighbors.TryResolve(nextHop, out nextHopMac) && !neighbors.Resolve(nextHop, frame, ingress.Id.Value, out nextHopMac))
            return false;
        nextHopMac.CopyTo(frame);
        egress.Link.LinkAddress.CopyTo(frame[MacAddress.Length..]);
        return true;
    }
}
