using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

/// <summary>The IPv6 side of one NIC (RFC 8200): validates received packets, walks their extension headers, reassembles fragments, and delivers those addressed to us to ICMPv6, NDP or a transport.</summary>
/// <remarks>
/// Like the IPv4 endpoint it runs on the receiving worker with no lock: the address snapshot is the
/// one the NIC read for the batch, and reassembly, ICMPv6 scratch space and the error token bucket
/// are per worker.
/// </remarks>
internal sealed partial class Ipv6Endpoint
{
    internal const int LinkHeaderLength = EthernetFrame.UntaggedHeaderLength;

    private readonly Nic _nic;
    private readonly Ipv6Reassembler?[] _reassemblers;
    private readonly IcmpErrorBuckets _errorBuckets;
    private readonly IcmpPeerLimiter _peerLimits;
    private readonly byte[][] _scratch;

    public Ipv6Endpoint(Nic nic)
    {
        _nic = nic;
        int workers = nic.Stack.Workers;
        _reassemblers = new Ipv6Reassembler?[workers];
        _errorBuckets = new IcmpErrorBuckets(nic.Stack);
        _peerLimits = new IcmpPeerLimiter(nic.Stack.Clock, nic.Stack.Workers);
        _scratch = new byte[workers][];
        for (int w = 0; w < workers; w++)
            _scratch[w] = new byte[IcmpErrorFrameLimit];
    }

    /// <summary>Handles one IPv6 frame; <paramref name="frame"/> starts at the Ethernet header.</summary>
    public void HandlePacket(int worker, AddressSnapshot addresses, Span<byte> frame, ref Frame descriptor)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.Ipv6PacketsReceived);
        if (!Ipv6Packet.TryCreate(frame[LinkHeaderLength..], out Ipv6Packet ip, out _))
        {
            stats.Add(worker, StatCounter.Ipv6MalformedPacketsReceived);
            return;
        }
        // Ethernet pads short frames; the packet ends where its payload length says.
        frame = frame[..(LinkHeaderLength + Ipv6Packet.HeaderLength + ip.PayloadLength)];
        Ipv6Address source = ip.Source;
        Ipv6Address destination = ip.Destination;
        // RFC 4291 §2.7: a multicast address is never a source; ::1 never leaves a host (§2.5.3).
        if (source.IsMulticast || (!_nic.IsLoopback && source.IsLoopback))
        {
            stats.Add(worker, StatCounter.Ipv6InvalidSourceAddressesReceived);
            return;
        }
        // NDP, MLD, OSPFv3 (ff02::5/6), all-routers: link-scope multicast is the kernel twin's too; the stack goes on.
        IPuntHandler? punt = _nic.PuntHandler;
        if (destination.IsLinkLocalMulticast && punt is not null)
            punt.Punt(_nic, worker, frame);
        if (!IsForUs(addresses, destination))
        {
            // A link-local address the stack does not have is the twin's own (the kernel derives one from the MAC);
            // RFC 4291 §2.5.6 forbids forwarding it anyway.
            if (destination.IsLinkLocal && punt is not null)
            {
                punt.Punt(_nic, worker, frame);
                return;
            }
            // Not for us: the forwarder's, when this NIC forwards IPv6 and one is installed.
            if (_nic.IsForwarding(EtherType.Ipv6) && _nic.Stack.Ipv6Forwarder is { } forwarder)
            {
                forwarder.Forward(_nic, worker, frame, ref descriptor);
                return;
            }
            stats.Add(worker, StatCounter.Ipv6InvalidDestinationAddressesReceived);
            return;
        }
        DeliverAsLocal(worker, addresses, frame, ref descriptor);
    }

    /// <summary>Delivers a checked packet (trimmed to its payload length) to this stack: extension headers, options, fragments, then ICMPv6 or a transport; the forwarder uses it for packets to another NIC's address.</summary>
    internal void DeliverAsLocal(int worker, AddressSnapshot addresses, Span<byte> frame, ref Frame descriptor)
    {
        NicStats stats = _nic.Stats;
        Ipv6Packet.TryCreate(frame[LinkHeaderLength..], out Ipv6Packet ip, out _);
        if (!Ipv6ExtensionHeaderReader.TryWalk(ip, out Ipv6ExtensionChain chain, out WireError chainError))
        {
            stats.Add(worker, StatCounter.Ipv6MalformedPacketsReceived);
            // A Hop-by-Hop header anywhere but first is a Next Header value Linux does not know there
            // (ip6_input_finish): Parameter Problem code 1 at the field that named it (RFC 8200 §4.3, §4).
            if (chainError == WireError.MisplacedHopByHop)
                SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, 1, (uint)MisplacedHopByHopField(ip));
            return;
        }
        if (chain.HeaderCount != 0 && !ProcessOptions(worker, addresses, frame, ip))
            return;
        // RFC 8200 §4.4: a Routing header we do not implement, with segments left, is an error
        // pointing at its type; with none left it is ignored. No routing type is implemented.
        if (chain.HasRoutingHeader && chain.SegmentsLeft != 0)
        {
            SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, 0, (uint)(chain.RoutingHeaderOffset + 2));
            return;
        }
        if (chain.IsFragment)
        {
            HandleFragment(worker, addresses, frame, ip, chain);
            return;
        }
        Deliver(worker, addresses, frame, chain, ref descriptor, reassembled: false);
    }

    private void Deliver(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6ExtensionChain chain, ref Frame descriptor, bool reassembled)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.Ipv6PacketsDelivered);
        Ipv6Packet.TryCreate(frame[LinkHeaderLength..], out Ipv6Packet delivered, out _);
        _nic.Stack.Raw.Deliver(_nic, worker, (byte)chain.UpperLayerProtocol, delivered.Packet, delivered.Source, delivered.Destination);
        // Link-scope multicast was copied on arrival; nothing below copies it twice.
        IPuntHandler? punt = delivered.Destination.IsLinkLocalMulticast ? null : _nic.PuntHandler;
        switch (chain.UpperLayerProtocol)
        {
            case IpProtocol.Icmpv6:
                // As for IPv4: echo requests are ours alone; NDP, echo replies and errors are copied before an NS
                // could become our NA.
                if (punt is not null && chain.UpperLayerLength > 0 && !delivered.Destination.IsMulticast
                    && frame[LinkHeaderLength + chain.UpperLayerOffset] != (byte)Icmpv6Type.EchoRequest)
                    punt.Punt(_nic, worker, frame);
                HandleIcmp(worker, addresses, frame, chain, ref descriptor, reassembled);
                return;
            case IpProtocol.Ipv6NoNextHeader:
                return;
        }
        if (_nic.Stack.Transports.Find((byte)chain.UpperLayerProtocol) is IIpv6TransportProtocol transport)
        {
            var delivery = new Ipv6Delivery(_nic, worker, addresses, frame, chain.UpperLayerOffset, chain.UpperLayerLength, ref descriptor, reassembled);
            switch (transport.HandlePacket(ref delivery))
            {
                case TransportVerdict.Malformed:
                    stats.Add(worker, StatCounter.MalformedTransportPackets);
                    break;
                case TransportVerdict.PortUnreachable:
                    if (punt is not null)
                        punt.Punt(_nic, worker, frame);
                    else
                        SendError(worker, addresses, frame, Icmpv6Type.DestinationUnreachable, 4, 0);
                    break;
            }
            return;
        }
        if (punt is not null)
        {
            punt.Punt(_nic, worker, frame);
            return;
        }
        stats.AddUnknownTransport(worker, (byte)chain.UpperLayerProtocol);
        // RFC 8200 §4: an unrecognized Next Header is Parameter Problem code 1, pointing at the
        // octet that named it.
        SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, 1, (uint)NextHeaderFieldOffset(frame));
    }

    private bool IsForUs(AddressSnapshot addresses, Ipv6Address destination)
    {
        if (addresses.Ipv6.TryGetValue(destination, out AddressEndpoint? endpoint) && endpoint.IsValidForIncoming)
            return true;
        if (destination.IsMulticast)
        {
            // Every node is in all-nodes on every interface (RFC 4291 §2.8), a router in all-routers; other groups
            // need a join.
            if (destination == Ipv6Address.AllNodes || addresses.Ipv6Groups.Contains(destination) || _nic.IsRouterGroup(destination)
                || _nic.IsSubnetRouterAnycastGroup(destination))
                return true;
        }
        else if (_nic.IsSubnetRouterAnycast(destination))
        {
            return true;
        }
        return _nic.Promiscuous;
    }

    // The offset, from the IPv6 header, of the Next Header octet (the first of the header before it) that names a
    // Hop-by-Hop header out of place.
    private static int MisplacedHopByHopField(Ipv6Packet ip)
    {
        var reader = new Ipv6ExtensionHeaderReader(ip);
        int field = 6;
        while (reader.MoveNext())
            field = reader.Current.Offset;
        return field;
    }

    // The offset, from the IPv6 header, of the Next Header octet that names the upper layer.
    private static int NextHeaderFieldOffset(Span<byte> frame)
    {
        Ipv6Packet.TryCreate(frame[LinkHeaderLength..], out Ipv6Packet ip, out _);
        var reader = new Ipv6ExtensionHeaderReader(ip);
        int field = 6;
        while (reader.MoveNext())
            field = reader.Current.Offset;
        return field;
    }
}
