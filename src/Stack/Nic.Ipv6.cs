using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

// The IPv6 endpoint and its NDP neighbour cache (kept apart from Nic.cs so IPv4 work does not collide).
public sealed partial class Nic
{
    /// <summary>The NDP neighbour cache of this NIC (RFC 4861), on the same NUD machinery as ARP's.</summary>
    public NeighborCache<Ipv6Address> Ipv6Neighbors { get; }

    internal Ipv6Endpoint Ipv6 { get; }

    /// <summary>
    /// Sends an IPv6 frame the stack built (its Ethernet header is filled here) to
    /// <paramref name="nextHop"/>, resolving it with a Neighbor Solicitation to its solicited-node
    /// group first when needed; the frame is then queued and <see cref="StackError.ResolutionPending"/> returned.
    /// </summary>
    public StackError SendIpv6(byte[] frame, Ipv6Address nextHop) => Ipv6.ResolveAndSend(frame, nextHop);

    /// <summary>Gives up this worker's fragment reassemblies whose time ran out; a worker calls it when idle so timeouts are answered without new fragments.</summary>
    public void ExpireIpv6Fragments(int worker) => Ipv6.ExpireFragments(worker);
}
