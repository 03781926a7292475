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
    /// A packet larger than the link MTU leaves in fragments (RFC 8200 §4.5).
    /// </summary>
    public StackError SendIpv6(byte[] frame, Ipv6Address nextHop) => Ipv6.ResolveAndSend(frame, nextHop);

    /// <summary>
    /// Sends an ICMPv6 error about <paramref name="offendingFrame"/> (a received Ethernet frame
    /// carrying a valid IPv6 packet) back to the MAC it came from, from this NIC's address, for the
    /// forwarding path: Destination Unreachable, Packet Too Big, Time Exceeded, Parameter Problem.
    /// Applies RFC 4443 §2.4(e) and the token bucket (which Packet Too Big skips, as in Linux);
    /// returns false when the error was not sent.
    /// </summary>
    /// <param name="worker">The calling worker, or <see cref="NicStats.ControlWorker"/>.</param>
    /// <param name="offendingFrame">The frame the error is about; it is only read.</param>
    /// <param name="type">The ICMPv6 error type.</param>
    /// <param name="code">The code within <paramref name="type"/>.</param>
    /// <param name="rest">The second word of the ICMPv6 header: a pointer, or the MTU for Packet Too Big.</param>
    public bool SendIcmpv6Error(int worker, Span<byte> offendingFrame, Icmpv6Type type, byte code, uint rest = 0) =>
        Ipv6.SendError(worker, Volatile.Read(ref _snapshot), offendingFrame, type, code, rest);

    /// <summary>Gives up this worker's fragment reassemblies whose time ran out; a worker calls it when idle so timeouts are answered without new fragments.</summary>
    public void ExpireIpv6Fragments(int worker) => Ipv6.ExpireFragments(worker);
}
