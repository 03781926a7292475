using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>The full-stack IPv4 router (RFC 1812): TTL, route lookup, options, MTU, redirects, link resolution and the ICMP errors each can cause; install it as <see cref="NetworkStack.Ipv4Forwarder"/>.</summary>
/// <remarks>
/// The order of the checks follows Linux (ip_route_input, ip_rcv_options, then ip_forward):
/// martians, malformed options (Parameter Problem), source routes (dropped unless
/// <see cref="StackOptions.AcceptSourceRoute"/>), local delivery for another NIC's address, the
/// route (Net Unreachable), TTL (Time Exceeded when the TTL is 0 or 1, as RFC 1812 §4.2.2.9
/// requires; gVisor would forward TTL 1 as 0), a strict source route through a gateway (Source
/// Route Failed), the egress MTU (Fragmentation Needed with DF, otherwise fragmentation), a
/// Redirect when the packet leaves by the NIC it came in on, then the options are filled in and the
/// TTL decremented. Every outcome has one counter on the ingress NIC; <see cref="StatCounter.Ipv4PacketsForwarded"/>
/// counts the packets sent on or queued for link resolution (as Linux counts OutForwDatagrams
/// before the neighbour layer), a failed resolution then counting as an egress error. The
/// receiving worker runs all of it; nothing is allocated unless the next hop is unresolved and
/// the neighbour cache queues a copy.
/// </remarks>
public sealed class Ipv4Forwarder : IIpv4Forwarder
{
    /// <inheritdoc/>
    public void Forward(Nic ingress, int worker, Span<byte> frame, ref Frame descriptor)
    {
        NicStats stats = ingress.Stats;
        NetworkStack stack = ingress.Stack;
        if (!Ipv4Packet.TryCreate(frame[Ipv4Delivery.LinkHeaderLength..], out Ipv4Packet ip, out _))
        {
            stats.Add(worker, StatCounter.Ipv4MalformedPacketsReceived);
            return;
        }
        Ipv4Address source = ip.Source;
        Ipv4Address destination = ip.Destination;

        // Behaviours 30 and 35: sources that name no single host, which Linux calls martians.
        if (IsMartianSource(source))
        {
            stats.Add(worker, StatCounter.Ipv4InvalidSourceAddressesReceived);
            return;
        }
        // Groups and broadcasts are not routed; this-network, link-local (RFC 3927 §7) and class E are never forwarded.
        if (IsUnroutableDestination(destination))
        {
            stats.Add(worker, StatCounter.Ipv4InvalidDestinationAddressesReceived);
            return;
        }

        bool hasOptions = ip.HeaderLength > Ipv4Packet.MinHeaderLength;
        int sourceRoute = -1;
        if (hasOptions)
        {
            int problem = Ipv4ForwardingOptions.FindProblem(ip.Options);
            if (problem >= 0)
            {
                stats.Add(worker, StatCounter.Ipv4ForwardOptionErrors);
                ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.ParameterProblem, 0, (uint)problem << 24);
                return;
            }
            sourceRoute = Ipv4ForwardingOptions.FindSourceRoute(ip.Options);
            // Linux's default accept_source_route=0: a source route lets a sender steer around
            // filters, so the packet is dropped quietly.
            if (sourceRoute >= 0 && !stack.Options.AcceptSourceRoute)
            {
                stats.Add(worker, StatCounter.Ipv4SourceRouteDrops);
                return;
            }
        }

        // The address the route is looked up for: the destination, or the next hop a source route names.
        Ipv4Address target = destination;
        int sourceRoutePointer = -1;
        bool strict = false;
        if (sourceRoute >= 0)
        {
            strict = Ipv4ForwardingOptions.IsStrict(ip.Options, sourceRoute);
            if (IsLocalAddress(stack, destination))
            {
                sourceRoutePointer = NextSourceRouteHop(stack, ip.Options, sourceRoute, out target);
                if (sourceRoutePointer < 0)
                {
                    // The route ends here (or only at more of our addresses): the packet is ours.
                    ingress.Ipv4.DeliverAsLocal(worker, ingress.Addresses, frame, ref descriptor);
                    return;
                }
                if (IsMartianSource(target) || IsUnroutableDestination(target))
                {
                    stats.Add(worker, StatCounter.Ipv4InvalidDestinationAddressesReceived);
                    return;
                }
            }
            else if (strict)
            {
                // A strict route may not pass through a router it does not name (Linux: Parameter Problem at the destination field).
                stats.Add(worker, StatCounter.Ipv4SourceRouteFailed);
                ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.ParameterProblem, 0, (uint)Ipv4ForwardingOptions.DestinationFieldPointer << 24);
                return;
            }
        }
        else if (IsLocalAddress(stack, destination))
        {
            // Behaviour 32: another NIC's address is ours too (the weak host model of Linux and gVisor);
            // the receiving NIC's own addresses never reach the forwarder.
            ingress.Ipv4.DeliverAsLocal(worker, ingress.Addresses, frame, ref descriptor);
            return;
        }

        // Read once: the flow hash and the groups it indexes must come from the same publication.
        RouteTable routes = stack.Routes;
        uint flowHash = routes.HasIpv4Groups ? routes.Multipath.OfIpv4(ip.Buffer[..ip.TotalLength]) : 0;
        Ipv4Route? route = routes.Lookup(target, flowHash, new EnabledNicFilter(stack));
        if (route is null || !stack.TryGetNic(new NicId(route.Nic), out Nic egress))
        {
            stats.Add(worker, StatCounter.Ipv4ForwardNoRoute);
            ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.DestinationUnreachable, IcmpDestinationUnreachableCode.NetUnreachable);
            return;
        }

        // A directed broadcast to the subnet of one of our NICs (RFC 1812 §5.3.5.2 lets a router refuse to forward
        // them; Linux does by default, bc_forwarding 0): Linux's local table names the address a broadcast, so the
        // packet is taken in as one (an echo is not answered, no error is sent) and goes no further.
        if (route.IsOnLink && egress.Addresses.Ipv4SubnetBroadcasts.Contains(target))
        {
            stats.Add(worker, StatCounter.Ipv4DirectedBroadcastsNotForwarded);
            return;
        }

        if (ip.TimeToLive <= 1)
        {
            stats.Add(worker, StatCounter.Ipv4ForwardTtlExceeded);
            ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.TimeExceeded, 0);
            return;
        }

        // RFC 791: a strict route's next address must be directly reachable (Linux ip_forward's rt_uses_gateway check).
        if (strict && !route.IsOnLink)
        {
            stats.Add(worker, StatCounter.Ipv4SourceRouteFailed);
            ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.DestinationUnreachable, IcmpDestinationUnreachableCode.SourceRouteFailed);
            return;
        }

        int mtu = egress.Link.Mtu;
        bool fragment = ip.TotalLength > mtu;
        if (fragment && ip.DontFragment)
        {
            stats.Add(worker, StatCounter.Ipv4ForwardPacketTooBig);
            // RFC 1191: the next-hop MTU rides in the low 16 bits of the second word.
            ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.DestinationUnreachable, IcmpDestinationUnreachableCode.FragmentationNeeded, (uint)mtu);
            return;
        }

        Ipv4Address nextHop = route.NextHopFor(target);
        ip.DecrementTimeToLive();

        // RFC 1812 §5.2.7.2: out the NIC it came in on, to a next hop on the sender's own subnet,
        // and not source routed: the sender could have gone there directly. The Redirect comes
        // from our address on that subnet, the gateway hosts check it against (Linux picks it the
        // same way), shares the ICMP token bucket, and quotes the packet as Linux's ip_forward does:
        // TTL already decremented, options not yet rewritten for the next hop. The packet still goes on.
        if (egress == ingress && sourceRoute < 0 && stack.Options.SendRedirects)
        {
            AddressSnapshot addresses = ingress.Addresses;
            Ipv4Address ours = SharedNetworkAddress(addresses, source, nextHop);
            if (!ours.IsUnspecified)
                ingress.Ipv4.SendError(worker, addresses, frame, Icmpv4Type.Redirect, RedirectForHost, nextHop.Value, ours);
        }

        if (hasOptions)
        {
            Ipv4Address egressAddress = EgressAddress(egress.Addresses, nextHop);
            bool changed = Ipv4ForwardingOptions.RecordHop(ip.Options, egressAddress, stack);
            if (sourceRoutePointer >= 0)
            {
                Ipv4ForwardingOptions.RecordSourceRouteHop(ip.Options, sourceRoute, sourceRoutePointer, egressAddress);
                ip.Destination = target;
                changed = true;
            }
            // Options are rare and the fast path never sees them, so the whole header is summed again.
            if (changed)
                ip.FillChecksum();
        }

        // Queued for resolution (behaviour 39 answers Host Unreachable if it fails): counted as forwarded.
        if (!ForwardingEgress.TryAddress(ingress, egress, egress.Neighbors, nextHop, frame))
        {
            stats.Add(worker, StatCounter.Ipv4PacketsForwarded);
            stats.AddForwarded(worker, egress.Id);
            return;
        }
        NicStats egressStats = egress.Stats;
        if (egress == ingress && !fragment)
        {
            // Out the way it came: the frame leaves in place, with no copy.
            descriptor.Length = frame.Length;
            descriptor.Action = FrameAction.Transmit;
            egressStats.Add(worker, StatCounter.Ipv4PacketsSent);
            stats.Add(worker, StatCounter.Ipv4PacketsForwarded);
            stats.AddForwarded(worker, egress.Id);
            return;
        }
        bool sent = fragment ? egress.WriteIpv4Frame(worker, frame) : egress.WriteFrame(worker, frame);
        egressStats.Add(worker, sent ? StatCounter.Ipv4PacketsSent : StatCounter.Ipv4OutgoingPacketErrors);
        if (sent)
        {
            stats.Add(worker, StatCounter.Ipv4PacketsForwarded);
            stats.AddForwarded(worker, egress.Id);
        }
    }

    /// <summary>True when <paramref name="address"/> is a permanent address of an enabled NIC of <paramref name="stack"/> (any NIC: the weak host model).</summary>
    internal static bool IsLocalAddress(NetworkStack stack, Ipv4Address address)
    {
        foreach (Nic nic in stack.NicArray)
        {
            if (nic.Enabled && nic.Addresses.Ipv4.TryGetValue(address, out AddressEndpoint? own) && own.Kind == AddressKind.Permanent)
                return true;
        }
        return false;
    }

    /// <summary>True for sources no router forwards from: this network (0/8), class E and broadcast, multicast, loopback and link-local.</summary>
    internal static bool IsMartianSource(Ipv4Address source) =>
        (source.Value >> 24) == 0 || (source.Value >> 28) >= 0xE || source.IsLoopback || source.IsLinkLocal;

    /// <summary>True for destinations no router forwards to: this network, class D and E and broadcast, loopback and link-local.</summary>
    internal static bool IsUnroutableDestination(Ipv4Address destination) =>
        (destination.Value >> 24) == 0 || (destination.Value >> 28) >= 0xE || destination.IsLoopback || destination.IsLinkLocal;

    // RFC 1812 §5.2.7.2: routers send host redirects (code 1), never network redirects.
    private const byte RedirectForHost = 1;

    // Walks a source route from its pointer past addresses that are ours (Linux's "superfast
    // loopback forward"); returns the pointer of the first that is not, with that address, or -1.
    private static int NextSourceRouteHop(NetworkStack stack, ReadOnlySpan<byte> options, int at, out Ipv4Address next)
    {
        int length = options[at + 1];
        for (int pointer = options[at + 2]; pointer <= length; pointer += 4)
        {
            next = Ipv4Address.Read(options[(at + pointer - 1)..]);
            if (!IsLocalAddress(stack, next))
                return pointer;
        }
        next = Ipv4Address.Any;
        return -1;
    }

    // The NIC's own address whose network (its prefix) holds both addresses, or 0.0.0.0.
    private static Ipv4Address SharedNetworkAddress(AddressSnapshot addresses, Ipv4Address a, Ipv4Address b)
    {
        foreach (AddressEndpoint endpoint in addresses.PrimaryIpv4Array)
        {
            if (endpoint.Kind != AddressKind.Permanent)
                continue;
            Ipv4Address own = endpoint.Address.V4;
            if (SameNetwork(own, a, endpoint.PrefixLength) && SameNetwork(own, b, endpoint.PrefixLength))
                return own;
        }
        return Ipv4Address.Any;
    }

    private static bool SameNetwork(Ipv4Address a, Ipv4Address b, int prefixLength) =>
        prefixLength == 0 || ((a.Value ^ b.Value) >> (32 - prefixLength)) == 0;

    // The address the packet is "known by" on the egress network: the NIC's permanent address on
    // the next hop's subnet, else its first, else 0.0.0.0 for a NIC without one.
    private static Ipv4Address EgressAddress(AddressSnapshot addresses, Ipv4Address nextHop)
    {
        Ipv4Address first = Ipv4Address.Any;
        foreach (AddressEndpoint endpoint in addresses.PrimaryIpv4Array)
        {
            if (endpoint.Kind != AddressKind.Permanent)
                continue;
            Ipv4Address address = endpoint.Address.V4;
            if (SameNetwork(address, nextHop, endpoint.PrefixLength))
                return address;
            if (first.IsUnspecified)
                first = address;
        }
        return first;
    }
}
