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

    /// <summary>
    /// True when <paramref name="address"/> is a Subnet-Router anycast address of this NIC (RFC 4291 §2.6.1): the
    /// prefix of one of its IPv6 addresses with the rest zero, which a router answers for while it forwards IPv6, as
    /// Linux joins it (addrconf_join_anycast; not for prefixes of 127 or 128 bits, RFC 6164).
    /// </summary>
    internal bool IsSubnetRouterAnycast(Ipv6Address address) =>
        !address.IsMulticast && !address.IsUnspecified && FindSubnetRouterAnycast(address, solicitedNodeGroup: false);

    /// <summary>True when <paramref name="group"/> is the solicited-node group of one of this NIC's Subnet-Router anycast addresses, which Linux joins with the address.</summary>
    internal bool IsSubnetRouterAnycastGroup(Ipv6Address group) =>
        group.IsSolicitedNodeMulticast && FindSubnetRouterAnycast(group, solicitedNodeGroup: true);

    private bool FindSubnetRouterAnycast(Ipv6Address address, bool solicitedNodeGroup)
    {
        if (!Enabled || !IsForwarding(EtherType.Ipv6))
            return false;
        IReadOnlyList<AddressEndpoint> own = Addresses.PrimaryIpv6;
        for (int i = 0; i < own.Count; i++)
        {
            AddressEndpoint endpoint = own[i];
            if (endpoint.Kind != AddressKind.Permanent || endpoint.PrefixLength >= 127)
                continue;
            Ipv6Address anycast = Ipv6Prefix.Containing(endpoint.Address.V6, endpoint.PrefixLength).Address;
            if (!anycast.IsUnspecified && (solicitedNodeGroup ? anycast.SolicitedNodeMulticast : anycast) == address)
                return true;
        }
        return false;
    }

    /// <summary>True when this NIC is in <paramref name="group"/> as a router: all-routers, link- and site-local (RFC 4291 §2.7.1), which Linux joins while the interface forwards.</summary>
    internal bool IsRouterGroup(Ipv6Address group) =>
        (group == Ipv6Address.AllRouters || group == SiteLocalAllRouters) && IsForwarding(EtherType.Ipv6);

    private static readonly Ipv6Address SiteLocalAllRouters = new(0xFF05_0000_0000_0000UL, 2);

    /// <summary>Gives up this worker's fragment reassemblies whose time ran out; a worker calls it when idle so timeouts are answered without new fragments.</summary>
    public void ExpireIpv6Fragments(int worker) => Ipv6.ExpireFragments(worker);
}
