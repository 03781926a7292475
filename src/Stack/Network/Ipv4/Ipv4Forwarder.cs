using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>The full-stack IPv4 router (RFC 1812): TTL, route lookup, options, MTU, link resolution and the ICMP errors each can cause; install it as <see cref="NetworkStack.Ipv4Forwarder"/>.</summary>
/// <remarks>
/// The order of the checks follows Linux (ip_route_input, then ip_forward): martians, local
/// delivery for another NIC's address, the route (Net Unreachable), TTL (Time Exceeded when the
/// TTL is 0 or 1, as RFC 1812 §4.2.2.9 requires; gVisor would forward TTL 1 as 0), options
/// (Parameter Problem), then the egress MTU (Fragmentation Needed with DF, otherwise
/// fragmentation). The receiving worker runs all of it; nothing is allocated unless the next hop
/// is unresolved and the neighbour cache queues a copy.
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

        // Behaviour 32: another NIC's address is ours too (the weak host model of Linux and gVisor).
        foreach (Nic nic in stack.NicArray)
        {
            if (nic != ingress && nic.Enabled && nic.Addresses.Ipv4.TryGetValue(destination, out AddressEndpoint? own)
                && own.Kind == AddressKind.Permanent)
            {
                ingress.Ipv4.DeliverAsLocal(worker, ingress.Addresses, frame, ref descriptor);
                return;
            }
        }

        Ipv4Route? route = stack.Routes.Lookup(destination, new EnabledNicFilter(stack));
        if (route is null || !stack.TryGetNic(new NicId(route.Nic), out Nic egress))
        {
            ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.DestinationUnreachable, IcmpDestinationUnreachableCode.NetUnreachable);
            return;
        }

        if (ip.TimeToLive <= 1)
        {
            ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.TimeExceeded, 0);
            return;
        }

        if (ip.HeaderLength > Ipv4Packet.MinHeaderLength)
        {
            int problem = Ipv4ForwardingOptions.FindProblem(ip.Options);
            if (problem >= 0)
            {
                ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.ParameterProblem, 0, (uint)problem << 24);
                return;
            }
        }

        int mtu = egress.Link.Mtu;
        bool fragment = ip.TotalLength > mtu;
        if (fragment && ip.DontFragment)
        {
            // RFC 1191: the next-hop MTU rides in the low 16 bits of the second word.
            ingress.SendIcmpv4Error(worker, frame, Icmpv4Type.DestinationUnreachable, IcmpDestinationUnreachableCode.FragmentationNeeded, (uint)mtu);
            return;
        }

        ip.DecrementTimeToLive();

        MacAddress nextHopMac;
        if ((egress.Link.Capabilities & LinkCapabilities.ResolutionRequired) == 0)
        {
            nextHopMac = MacAddress.Zero;
        }
        else if (!egress.Neighbors.TryResolve(route.NextHopFor(destination), out nextHopMac))
        {
            // The cache keeps a copy, original link header included, so that if resolution fails
            // the Host Unreachable (behaviour 39) goes back to the sender's MAC; the tag names the ingress NIC.
            if (!egress.Neighbors.Resolve(route.NextHopFor(destination), frame, ingress.Id.Value, out nextHopMac))
                return;
        }

        nextHopMac.CopyTo(frame);
        egress.Link.LinkAddress.CopyTo(frame[MacAddress.Length..]);
        NicStats egressStats = egress.Stats;
        if (egress == ingress && !fragment)
        {
            // Out the way it came: the frame leaves in place, with no copy.
            descriptor.Length = frame.Length;
            descriptor.Action = FrameAction.Transmit;
            egressStats.Add(worker, StatCounter.Ipv4PacketsSent);
            return;
        }
        bool sent = fragment ? egress.WriteIpv4Frame(worker, frame) : egress.WriteFrame(worker, frame);
        egressStats.Add(worker, sent ? StatCounter.Ipv4PacketsSent : StatCounter.Ipv4OutgoingPacketErrors);
    }

    /// <summary>True for sources no router forwards from: this network (0/8), class E and broadcast, multicast, loopback and link-local.</summary>
    internal static bool IsMartianSource(Ipv4Address source) =>
        (source.Value >> 24) == 0 || (source.Value >> 28) >= 0xE || source.IsLoopback || source.IsLinkLocal;

    /// <summary>True for destinations no router forwards to: this network, class D and E and broadcast, loopback and link-local.</summary>
    internal static bool IsUnroutableDestination(Ipv4Address destination) =>
        (destination.Value >> 24) == 0 || (destination.Value >> 28) >= 0xE || destination.IsLoopback || destination.IsLinkLocal;
}
