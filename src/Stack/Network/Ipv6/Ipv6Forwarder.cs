using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

/// <summary>The full-stack IPv6 router (RFC 8200, RFC 4443): Hop-by-Hop options, address scope, route lookup, hop limit, MTU, NDP and the ICMPv6 errors each can cause; install it as <see cref="NetworkStack.Ipv6Forwarder"/>.</summary>
/// <remarks>
/// <para>Linux is the authority for the order: ip6_rcv_core handles the Hop-by-Hop header of every
/// packet first, ip6_route_input then finds the local address or the route (no route: Destination
/// Unreachable code 0), and ip6_forward checks the hop limit (Time Exceeded), sends a Redirect for a
/// packet that leaves by the link it came in on, refuses a link-local source
/// leaving its link (Destination Unreachable code 2, beyond scope), the egress MTU (Packet Too Big,
/// never fragmentation), decrements the hop limit and hands the packet to neighbour output (a failed
/// resolution answers code 3, address unreachable). Each ICMPv6 error goes back through the
/// ingress NIC, from its address, quoting the packet as it arrived.</para>
/// <para>The receiving worker runs all of it with no lock; nothing is allocated unless the next hop
/// is unresolved and the neighbour cache queues a copy of the frame.</para>
/// </remarks>
public sealed class Ipv6Forwarder : IIpv6Forwarder
{
    /// <summary>Destination Unreachable code 0 (RFC 4443 §3.1): no route to the destination.</summary>
    internal const byte NoRoute = 0;

    /// <summary>Destination Unreachable code 2: the source's scope ends at the ingress link.</summary>
    internal const byte BeyondScope = 2;

    /// <summary>Destination Unreachable code 3: the next hop did not answer Neighbor Solicitations.</summary>
    internal const byte AddressUnreachable = 3;

    private const int LinkHeaderLength = Ipv6Endpoint.LinkHeaderLength;

    // RFC 8200 §5: every IPv6 link carries 1280 octets; Linux (ip6_forward) never checks against less.
    private const int MinimumMtu = 1280;

    /// <inheritdoc/>
    public void Forward(Nic ingress, int worker, Span<byte> frame, ref Frame descriptor)
    {
        NicStats stats = ingress.Stats;
        NetworkStack stack = ingress.Stack;
        AddressSnapshot addresses = ingress.Addresses;
        if (!Ipv6Packet.TryCreate(frame[LinkHeaderLength..], out Ipv6Packet ip, out _))
        {
            stats.Add(worker, StatCounter.Ipv6MalformedPacketsReceived);
            return;
        }
        frame = frame[..(LinkHeaderLength + Ipv6Packet.HeaderLength + ip.PayloadLength)];

        // Behaviour 43: unknown options by their action bits, and at most one Router Alert. A
        // packet with one Router Alert goes on like any other: Linux would first offer it to raw
        // sockets that asked for IPV6_ROUTER_ALERT (ip6_call_ra_chain), but we run no MLD or RSVP
        // listener that would want to see it.
        if (!ingress.Ipv6.ProcessHopByHopOptions(worker, addresses, frame, ip))
            return;

        Ipv6Address source = ip.Source;
        Ipv6Address destination = ip.Destination;
        // The receive path already dropped multicast and loopback sources; "::" names no sender
        // (Linux ip6_forward: "This check is security critical").
        if (source.IsUnspecified)
        {
            stats.Add(worker, StatCounter.Ipv6InvalidSourceAddressesReceived);
            return;
        }
        // Behaviour 41: a group is not routed here (no multicast routing), a link-local address
        // never leaves its link (RFC 4291 §2.5.6), and ::1 or :: never arrive from outside. Linux
        // gets the same result another way: groups go to ip6_mc_input, and its route lookup for a
        // link-local destination is bound to the receiving link (rt6_need_strict). No error is sent.
        if (destination.IsMulticast || destination.IsLinkLocal || destination.IsLoopback || destination.IsUnspecified)
        {
            stats.Add(worker, StatCounter.Ipv6ForwardingScopedDestination);
            return;
        }

        // Another NIC's address is ours too (the weak host model of Linux and gVisor, behaviour 32).
        foreach (Nic nic in stack.NicArray)
        {
            if (nic != ingress && nic.Enabled && ((nic.Addresses.Ipv6.TryGetValue(destination, out AddressEndpoint? own)
                && own.Kind == AddressKind.Permanent) || nic.IsSubnetRouterAnycast(destination)))
            {
                ingress.Ipv6.DeliverAsLocal(worker, addresses, frame, ref descriptor);
                return;
            }
        }

        // Read once: the flow hash and the groups it indexes must come from the same publication.
        RouteTable routes = stack.Routes;
        uint flowHash = routes.HasIpv6Groups ? routes.Multipath.OfIpv6(ip.Packet) : 0;
        Ipv6Route? route = routes.Lookup(destination, flowHash, new EnabledNicFilter(stack));
        if (route is null || !stack.TryGetNic(new NicId(route.Nic), out Nic egress))
        {
            stats.Add(worker, StatCounter.Ipv6ForwardingNoRoute);
            ingress.Ipv6.SendError(worker, addresses, frame, Icmpv6Type.DestinationUnreachable, NoRoute, 0);
            return;
        }

        // Behaviour 40: RFC 8200 §3 lets no router forward a packet whose hop limit it would bring to 0.
        if (ip.HopLimit <= 1)
        {
            stats.Add(worker, StatCounter.Ipv6ForwardingExhaustedHopLimit);
            ingress.Ipv6.SendError(worker, addresses, frame, Icmpv6Type.TimeExceeded, 0, 0);
            return;
        }

        // Back out of the link it came in on: the sender could have reached the next hop itself, so it
        // hears of it by a Redirect (RFC 4861 §8.2) and the packet is forwarded all the same. Linux
        // decides this after the hop limit and before the MTU, quoting the packet as it arrived. (Its
        // other condition, no source route taken here, always holds: the stack forwards no packet
        // whose Routing header named it.)
        if (egress == ingress && stack.Options.SendRedirects)
            ingress.Ipv6.SendRedirect(worker, addresses, frame, route.NextHopFor(destination));

        // A link-local source may be forwarded only back onto its own link. Linux checks it only
        // when the egress is another interface, after the hop limit, and answers beyond scope
        // (ICMPV6_NOT_NEIGHBOUR); out the same link it forwards it.
        if (source.IsLinkLocal && egress != ingress)
        {
            stats.Add(worker, StatCounter.Ipv6ForwardingLinkLocalSource);
            ingress.Ipv6.SendError(worker, addresses, frame, Icmpv6Type.DestinationUnreachable, BeyondScope, 0);
            return;
        }

        // Behaviour 42: routers never fragment IPv6 (RFC 8200 §5); the sender learns the MTU.
        int mtu = Math.Max(egress.Link.Mtu, MinimumMtu);
        if (ip.Packet.Length > mtu)
        {
            stats.Add(worker, StatCounter.Ipv6ForwardingPacketTooBig);
            ingress.Ipv6.SendError(worker, addresses, frame, Icmpv6Type.PacketTooBig, 0, (uint)mtu);
            return;
        }

        ip.DecrementHopLimit();

        // Queued for resolution; if it fails, Address Unreachable goes back to the sender. The pair counter takes it
        // now, as IPv4's does: the NDP send later runs where the ingress NIC is no longer known.
        if (!ForwardingEgress.TryAddress(ingress, egress, egress.Ipv6Neighbors, route.NextHopFor(destination), frame))
        {
            stats.AddForwarded(worker, egress.Id);
            return;
        }
        NicStats egressStats = egress.Stats;
        if (egress == ingress)
        {
            // Out the way it came: the frame leaves in place, with no copy.
            descriptor.Length = frame.Length;
            descriptor.Action = FrameAction.Transmit;
            egressStats.Add(worker, StatCounter.Ipv6PacketsSent);
            egressStats.Add(worker, StatCounter.Ipv6PacketsForwarded);
            stats.AddForwarded(worker, egress.Id);
            return;
        }
        if (!egress.WriteFrame(worker, frame))
        {
            egressStats.Add(worker, StatCounter.Ipv6OutgoingPacketErrors);
            return;
        }
        egressStats.Add(worker, StatCounter.Ipv6PacketsSent);
        egressStats.Add(worker, StatCounter.Ipv6PacketsForwarded);
        stats.AddForwarded(worker, egress.Id);
    }
}
