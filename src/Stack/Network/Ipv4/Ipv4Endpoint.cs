using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using XdpStack.Stack.Link;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>The IPv4 side of one NIC: validates received packets, delivers those addressed to us, reassembles fragments, and hands the rest to the forwarding hook.</summary>
/// <remarks>
/// Everything here runs on the receiving worker with no lock: the address snapshot is the one the
/// NIC read for the batch, per-worker state (reassembly, ICMP scratch and rate limit) is indexed
/// by the worker, and counters go to the worker's row.
/// </remarks>
internal sealed partial class Ipv4Endpoint
{

    private readonly Nic _nic;
    private readonly Ipv4Reassembler?[] _reassemblers;
    private readonly IcmpErrorBuckets _errorBuckets;
    private readonly IcmpPeerLimiter _peerLimits;
    private readonly IcmpPeerLimiter _redirectPeers;
    private readonly byte[][] _scratch;
    // Per worker (and one for control threads), a cache line apart: the IPv4 Identification of what the stack
    // itself sends without DF, echo replies and ICMP errors (Linux's ip_select_ident for its ICMP socket).
    private const int IdentificationStride = 16;
    private readonly int[] _identifications;

    public Ipv4Endpoint(Nic nic)
    {
        _nic = nic;
        int workers = nic.Stack.Workers;
        _reassemblers = new Ipv4Reassembler?[workers];
        _errorBuckets = new IcmpErrorBuckets(nic.Stack);
        _peerLimits = new IcmpPeerLimiter(nic.Stack.Clock, nic.Stack.Workers);
        _redirectPeers = new IcmpPeerLimiter(nic.Stack.Clock, nic.Stack.Workers);
        _scratch = new byte[workers][];
        for (int w = 0; w < workers; w++)
            _scratch[w] = new byte[IcmpErrorFrameLimit];
        _identifications = new int[(workers + 1) * IdentificationStride];
        for (int w = 0; w <= workers; w++)
            _identifications[w * IdentificationStride] = Random.Shared.Next(ushort.MaxValue + 1);
    }

    // A worker's next Identification; control threads (a negative index) share the last counter.
    private ushort NextIdentification(int worker)
    {
        int row = worker >= 0 ? worker : _identifications.Length / IdentificationStride - 1;
        return (ushort)_identifications[row * IdentificationStride]++;
    }

    /// <summary>Gives up the worker's datagrams whose time ran out, answering Time Exceeded code 1 (fragment reassembly time exceeded) for those whose first fragment arrived, as Linux's ip_expire does (RFC 1122 §3.3.2).</summary>
    public void ExpireFragments(int worker)
    {
        if (_reassemblers[worker] is { } reassembler)
            ExpireFragments(worker, _nic.Addresses, reassembler);
    }

    private void ExpireFragments(int worker, AddressSnapshot addresses, Ipv4Reassembler reassembler)
    {
        while (reassembler.TakeExpired(out Span<byte> first))
        {
            _nic.Stats.Add(worker, StatCounter.Ipv4ReassemblyTimeouts);
            if (!first.IsEmpty)
                SendError(worker, addresses, first, Icmpv4Type.TimeExceeded, FragmentReassemblyTimeExceeded, 0);
        }
    }

    // RFC 792: Time Exceeded code 1.
    private const byte FragmentReassemblyTimeExceeded = 1;

    /// <summary>Handles one IPv4 frame; <paramref name="frame"/> starts at the Ethernet header.</summary>
    public void HandlePacket(int worker, AddressSnapshot addresses, Span<byte> frame, ref Frame descriptor)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.Ipv4PacketsReceived);
        // RFC 1122 §3.2.1.1-2 and RFC 791: version, IHL, total length against the header and the
        // data actually present (behaviour 34). TTL is not checked: a packet to us may carry TTL 0 or 1.
        if (!Ipv4Packet.TryCreate(frame[Ipv4Delivery.LinkHeaderLength..], out Ipv4Packet ip, out _)
            || ((_nic.Link.Capabilities & LinkCapabilities.RxChecksumOffload) == 0 && !ip.VerifyChecksum()))
        {
            stats.Add(worker, StatCounter.Ipv4MalformedPacketsReceived);
            return;
        }
        // Ethernet pads short frames; the packet ends where its total length says (smoltcp test_overlong).
        frame = frame[..(Ipv4Delivery.LinkHeaderLength + ip.TotalLength)];
        stats.Add(worker, StatCounter.Ipv4ValidPacketsReceived);

        Ipv4Address source = ip.Source;
        Ipv4Address destination = ip.Destination;

        // Behaviour 35: sources no host may have.
        if (source.IsBroadcast || source.IsMulticast || addresses.Ipv4SubnetBroadcasts.Contains(source))
        {
            stats.Add(worker, StatCounter.Ipv4InvalidSourceAddressesReceived);
            return;
        }
        if (!_nic.IsLoopback)
        {
            // RFC 1122 §3.2.1.3: 127/8 "MUST NOT appear outside a host".
            if (source.IsLoopback)
            {
                stats.Add(worker, StatCounter.Ipv4InvalidSourceAddressesReceived);
                return;
            }
            if (destination.IsLoopback)
            {
                stats.Add(worker, StatCounter.Ipv4InvalidDestinationAddressesReceived);
                return;
            }
            // Linux's martian sources (ip_route_input_slow, fib_validate_source): "this network" (0/8) except to the
            // limited broadcast (a DHCP client before it has an address), and any address of ours, from outside.
            if (((source.Value >> 24) == 0 && !destination.IsBroadcast) || Ipv4Forwarder.IsLocalAddress(_nic.Stack, source))
            {
                stats.Add(worker, StatCounter.Ipv4InvalidSourceAddressesReceived);
                return;
            }
        }

        // Routing protocols' multicast (OSPF 224.0.0.5/6, VRRP, RIP) for the kernel's twin; the stack goes on as before.
        if (destination.IsLocalNetworkControl && _nic.PuntHandler is { } punt)
            punt.Punt(_nic, worker, frame);

        if (!IsForUs(addresses, destination))
        {
            // Behaviour 36; the forwarder counts what it forwards and every reason it does not.
            if (_nic.IsForwarding(EtherType.Ipv4) && _nic.Stack.Ipv4Forwarder is { } forwarder)
            {
                forwarder.Forward(_nic, worker, frame, ref descriptor);
                return;
            }
            stats.Add(worker, StatCounter.Ipv4InvalidDestinationAddressesReceived);
            return;
        }

        if (ip.HeaderLength > Ipv4Packet.MinHeaderLength)
        {
            // Linux's ip_rcv_options: malformed options in a packet to us draw a Parameter Problem pointing at
            // the bad octet, and the packet goes no further.
            int problem = Ipv4ForwardingOptions.FindProblem(ip.Options);
            if (problem >= 0)
            {
                stats.Add(worker, StatCounter.Ipv4OptionErrorsReceived);
                SendError(worker, addresses, frame, Icmpv4Type.ParameterProblem, 0, (uint)problem << 24);
                return;
            }
            int sourceRoute = Ipv4ForwardingOptions.FindSourceRoute(ip.Options);
            if (sourceRoute >= 0)
            {
                HandleSourceRouted(worker, addresses, frame, ref descriptor, ip, sourceRoute);
                return;
            }
        }

        DeliverAsLocal(worker, addresses, frame, ref descriptor);
    }

    // A source-routed packet addressed to us (RFC 1812 §5.2.4.1). Linux's ip_rcv_options drops
    // every one unless accept_source_route is set; then a route with addresses left goes on
    // through the forwarder, which takes the next address, and a finished one is ours.
    private void HandleSourceRouted(int worker, AddressSnapshot addresses, Span<byte> frame, ref Frame descriptor, Ipv4Packet ip, int sourceRoute)
    {
        NicStats stats = _nic.Stats;
        if (!_nic.Stack.Options.AcceptSourceRoute)
        {
            stats.Add(worker, StatCounter.Ipv4SourceRouteDrops);
            return;
        }
        if (!Ipv4ForwardingOptions.HasAddressesLeft(ip.Options, sourceRoute))
        {
            DeliverAsLocal(worker, addresses, frame, ref descriptor);
            return;
        }
        // Only a unicast packet to one of our own addresses is routed on (Linux: PACKET_HOST and
        // RTN_LOCAL), and only by a NIC that forwards.
        bool unicastToUs = !MacAddress.Read(frame).IsMulticast
            && addresses.Ipv4.TryGetValue(ip.Destination, out AddressEndpoint? own) && own.Kind == AddressKind.Permanent;
        if (!unicastToUs || !_nic.IsForwarding(EtherType.Ipv4) || _nic.Stack.Ipv4Forwarder is not { } forwarder)
        {
            stats.Add(worker, StatCounter.Ipv4SourceRouteDrops);
            return;
        }
        forwarder.Forward(_nic, worker, frame, ref descriptor);
    }

    /// <summary>Delivers a validated packet (trimmed to its total length) to this stack, reassembling fragments; the forwarder uses it for packets to another NIC's address (behaviour 32).</summary>
    internal void DeliverAsLocal(int worker, AddressSnapshot addresses, Span<byte> frame, ref Frame descriptor)
    {
        NicStats stats = _nic.Stats;
        Ipv4Packet.TryCreate(frame[Ipv4Delivery.LinkHeaderLength..], out Ipv4Packet ip, out _);
        if (ip.IsFragment)
        {
            stats.Add(worker, StatCounter.Ipv4FragmentsReceived);
            Ipv4Reassembler reassembler = _reassemblers[worker] ??= new Ipv4Reassembler(_nic.Stack.Options, _nic.Stack.Clock);
            ExpireFragments(worker, addresses, reassembler);
            if (reassembler.Add(frame, ip, stats, worker, out Span<byte> whole))
            {
                stats.Add(worker, StatCounter.Ipv4PacketsReassembled);
                Ipv4Packet.TryCreate(whole[Ipv4Delivery.LinkHeaderLength..], out Ipv4Packet wholeIp, out _);
                var reassembled = new Ipv4Delivery(_nic, worker, addresses, whole, wholeIp, ref Unsafe.NullRef<Frame>(), reassembled: true);
                DeliverLocally(worker, addresses, ref reassembled);
            }
            return;
        }

        var delivery = new Ipv4Delivery(_nic, worker, addresses, frame, ip, ref descriptor, reassembled: false);
        DeliverLocally(worker, addresses, ref delivery);
    }

    private bool IsForUs(AddressSnapshot addresses, Ipv4Address destination)
    {
        if (addresses.Ipv4.TryGetValue(destination, out AddressEndpoint? endpoint))
        {
            // Expired addresses still held by routes receive only when promiscuous (behaviour 7).
            if (endpoint.IsValidForIncoming)
                return true;
        }
        if (addresses.Ipv4SubnetBroadcasts.Contains(destination))
            return true;
        if (destination.IsMulticast && addresses.Ipv4Groups.Contains(destination))
            return true;
        foreach (Ipv4Prefix subnet in addresses.Ipv4SubnetArray)
        {
            if (subnet.Contains(destination))
                return true;
        }
        // Promiscuous: take what is not ours (behaviour 8). gVisor makes a temporary endpoint per
        // packet; the receive path must not allocate, and nothing outlives the packet, so none is made.
        return _nic.Promiscuous;
    }

    private void DeliverLocally(int worker, AddressSnapshot addresses, ref Ipv4Delivery delivery)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.Ipv4PacketsDelivered);
        byte protocol = (byte)delivery.Protocol;
        _nic.Stack.Raw.Deliver(_nic, worker, protocol, delivery.Ip.Buffer[..delivery.Ip.TotalLength], delivery.Source, delivery.Destination);
        // Local network control multicast was copied on arrival; nothing below copies it twice.
        IPuntHandler? punt = delivery.Destination.IsLocalNetworkControl ? null : _nic.PuntHandler;
        if (protocol == (byte)IpProtocol.Icmp)
        {
            // The stack answers echo requests itself; echo replies and errors are the kernel twin's too (its ping,
            // its TCP's path MTU). Copied before a request could become our reply.
            if (punt is not null && delivery.Payload.Length > 0 && delivery.Payload[0] != (byte)Icmpv4Type.EchoRequest && !delivery.Destination.IsMulticast)
                punt.Punt(_nic, worker, delivery.Frame);
            HandleIcmp(worker, addresses, ref delivery);
            return;
        }
        ITransportProtocol? transport = _nic.Stack.Transports.Find(protocol);
        if (transport is null)
        {
            // OSPF (89), VRRP (112) and whatever else the stack does not speak belong to the control plane.
            if (punt is not null)
            {
                punt.Punt(_nic, worker, delivery.Frame);
                return;
            }
            stats.AddUnknownTransport(worker, protocol);
            // RFC 1122 §3.2.2.1: Protocol Unreachable for a protocol nobody speaks.
            SendError(worker, addresses, ref delivery, Icmpv4Type.DestinationUnreachable, IcmpDestinationUnreachableCode.ProtocolUnreachable);
            return;
        }
        switch (transport.HandlePacket(ref delivery))
        {
            case TransportVerdict.Malformed:
                stats.Add(worker, StatCounter.MalformedTransportPackets);
                break;
            case TransportVerdict.PortUnreachable:
                // A port no service of ours has (BFD 3784, a daemon's ephemeral port) is the control plane's.
                if (punt is not null)
                    punt.Punt(_nic, worker, delivery.Frame);
                else
                    SendError(worker, addresses, ref delivery, Icmpv4Type.DestinationUnreachable, IcmpDestinationUnreachableCode.PortUnreachable);
                break;
        }
    }

    /// <summary>Recomputes the IPv4 header checksum of <paramref name="ip"/>, a packet whose lengths are known good, after header fields changed.</summary>
    internal static void UpdateHeaderChecksum(Span<byte> ip)
    {
        Ipv4Packet.TryCreate(ip, out Ipv4Packet packet, out _);
        packet.FillChecksum();
    }
}
