using XdpStack.Stack.Link;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

// Neighbor Discovery (RFC 4861) address resolution on the NIC's IPv6 neighbour cache: the endpoint
// answers solicitations, feeds advertisements to the cache, and is the cache's handler, sending
// the solicitations it asks for and the packets that waited for them.
internal sealed partial class Ipv6Endpoint : INeighborHandler<Ipv6Address>
{
    private const byte NdpHopLimit = 255;
    private const int NdpMessageLength = 24;
    private const int LinkLayerOptionLength = 8;
    // 86 octets: NDP messages fit any IPv6 link and must never be fragmented (RFC 6980), so they
    // go straight to the link rather than through Output.
    private const int NdpFrameLength = LinkHeaderLength + Ipv6Packet.HeaderLength + NdpMessageLength + LinkLayerOptionLength;
    private const uint RouterFlag = 0x8000_0000;
    private const uint SolicitedFlag = 0x4000_0000;
    private const uint OverrideFlag = 0x2000_0000;

    // RFC 4861 §7.1.1 and §7.1.2 checks common to NS and NA (behaviour 44): a hop limit of 255
    // proves the sender is on link, code 0, and no fragment header (RFC 6980).
    private static bool IsValidNdp(Ipv6Packet ip, Icmpv6Packet icmp, Ipv6ExtensionChain chain, bool reassembled, out MacAddress linkLayerOption)
    {
        linkLayerOption = default;
        if (ip.HopLimit != NdpHopLimit || icmp.Code != 0 || chain.HasFragmentHeader || reassembled || icmp.TargetAddress.IsMulticast)
            return false;
        byte wanted = icmp.Type == Icmpv6Type.NeighborSolicitation ? NdpOptionReader.SourceLinkLayerAddress : NdpOptionReader.TargetLinkLayerAddress;
        var options = new NdpOptionReader(icmp.NdpOptions);
        while (options.MoveNext())
        {
            if (options.Type == wanted)
                linkLayerOption = options.LinkLayerAddress;
        }
        return options.Error == WireError.None;
    }

    private void HandleSolicitation(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6ExtensionChain chain, ref Frame descriptor, bool reassembled)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.NdpSolicitationsReceived);
        Span<byte> ipBytes = frame[LinkHeaderLength..];
        Ipv6Packet.TryCreate(ipBytes, out Ipv6Packet ip, out _);
        Icmpv6Packet.TryCreate(ipBytes.Slice(chain.UpperLayerOffset, chain.UpperLayerLength), out Icmpv6Packet icmp, out _);
        Ipv6Address source = ip.Source;
        if (!IsValidNdp(ip, icmp, chain, reassembled, out MacAddress sourceLinkAddress)
            // §7.1.1: duplicate address detection (source ::) goes to a solicited-node group and carries no link address.
            || (source.IsUnspecified && (!ip.Destination.IsSolicitedNodeMulticast || !sourceLinkAddress.IsZero)))
        {
            stats.Add(worker, StatCounter.NdpInvalidReceived);
            return;
        }
        Ipv6Address target = icmp.TargetAddress;
        // A Subnet-Router anycast address of this NIC is answered too, without Override (RFC 4861 §7.2.4: others may
        // answer for it). Linux delays that answer by up to proxy_delay (0.8 s) when the solicitation was multicast;
        // this answers at once.
        bool anycast = false;
        if ((!addresses.Ipv6.TryGetValue(target, out AddressEndpoint? owned) || owned.Kind != AddressKind.Permanent)
            && !(anycast = _nic.IsSubnetRouterAnycast(target)))
        {
            stats.Add(worker, StatCounter.NdpSolicitationsUnknownTarget);
            return;
        }
        // §7.2.3: the solicitation tells us the sender's link address; the cache makes it Stale.
        if (!source.IsUnspecified && !sourceLinkAddress.IsZero && sourceLinkAddress.IsUnicast)
            _nic.Ipv6Neighbors.HandleProbe(source, sourceLinkAddress, worker);

        // §7.2.4: answer to the sender, or to all nodes for duplicate address detection (not
        // solicited then); override set since the address is ours alone, not anycast; router set
        // while the NIC forwards IPv6 (Linux: the interface's forwarding setting), so that hosts
        // mark us a router and drop us as a default router if we stop.
        bool toAllNodes = source.IsUnspecified;
        Ipv6Address replyTo = toAllNodes ? Ipv6Address.AllNodes : source;
        MacAddress replyMac = toAllNodes ? MacAddress.FromIpv6Multicast(Ipv6Address.AllNodes)
            : !sourceLinkAddress.IsZero ? sourceLinkAddress : MacAddress.Read(frame[MacAddress.Length..]);
        // A solicitation sent to us alone (a reachability probe) is answered as Linux's ndisc_send_na answers it:
        // without Override and without the Target Link-Layer Address option, which §7.2.4 lets it leave out.
        bool toGroup = ip.Destination.IsMulticast;
        uint flags = (toAllNodes ? 0 : SolicitedFlag) | (toGroup && !anycast ? OverrideFlag : 0) | (_nic.IsForwarding(EtherType.Ipv6) ? RouterFlag : 0);
        int length = toGroup ? NdpFrameLength : NdpFrameLength - LinkLayerOptionLength;
        if (frame.Length >= NdpFrameLength && !reassembled)
        {
            WriteAdvertisement(frame, replyMac, target, replyTo, flags, toGroup);
            descriptor.Length = length;
            descriptor.Action = FrameAction.Transmit;
            stats.Add(worker, StatCounter.Ipv6PacketsSent);
            stats.Add(worker, StatCounter.NdpAdvertisementsSent);
            return;
        }
        // A solicitation without options is too short to hold the answer with its option.
        Span<byte> scratch = worker >= 0 ? _scratch[worker].AsSpan(0, length) : new byte[length];
        WriteAdvertisement(scratch, replyMac, target, replyTo, flags, toGroup);
        if (_nic.WriteFrame(worker, scratch))
        {
            stats.Add(worker, StatCounter.Ipv6PacketsSent);
            stats.Add(worker, StatCounter.NdpAdvertisementsSent);
        }
        else
        {
            stats.Add(worker, StatCounter.Ipv6OutgoingPacketErrors);
        }
    }

    private void WriteAdvertisement(Span<byte> frame, MacAddress to, Ipv6Address target, Ipv6Address destination, uint flags, bool withTargetLinkAddress)
    {
        MacAddress self = _nic.Link.LinkAddress;
        int messageLength = NdpMessageLength + (withTargetLinkAddress ? LinkLayerOptionLength : 0);
        new EthernetHeader(to, self, EtherType.Ipv6).Emit(frame);
        new Ipv6Header(target, destination, IpProtocol.Icmpv6, NdpHopLimit, messageLength).Emit(frame[LinkHeaderLength..]);
        Span<byte> message = frame.Slice(LinkHeaderLength + Ipv6Packet.HeaderLength, messageLength);
        message[4..8].Clear();
        target.CopyTo(message[8..]);
        if (withTargetLinkAddress)
        {
            message[NdpMessageLength] = NdpOptionReader.TargetLinkLayerAddress;
            message[NdpMessageLength + 1] = 1;
            self.CopyTo(message[(NdpMessageLength + 2)..]);
        }
        new Icmpv6Header(Icmpv6Type.NeighborAdvertisement, 0, flags).EmitWithChecksum(message, target, destination);
    }

    private void HandleAdvertisement(int worker, Span<byte> frame, Ipv6ExtensionChain chain)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.NdpAdvertisementsReceived);
        Span<byte> ipBytes = frame[LinkHeaderLength..];
        Ipv6Packet.TryCreate(ipBytes, out Ipv6Packet ip, out _);
        Icmpv6Packet.TryCreate(ipBytes.Slice(chain.UpperLayerOffset, chain.UpperLayerLength), out Icmpv6Packet icmp, out _);
        // §7.1.2: a solicited advertisement is never sent to a group.
        if (!IsValidNdp(ip, icmp, chain, reassembled: false, out MacAddress targetLinkAddress)
            || (icmp.SolicitedFlag && ip.Destination.IsMulticast))
        {
            stats.Add(worker, StatCounter.NdpInvalidReceived);
            return;
        }
        Ipv6Address target = icmp.TargetAddress;
        if (targetLinkAddress.IsZero)
        {
            // §7.2.5: without the option the advertisement confirms the address already cached;
            // an Incomplete entry has none, so it is ignored.
            if (!_nic.Ipv6Neighbors.TryGetInfo(target, out NeighborInfo<Ipv6Address> info) || info.LinkAddress.IsZero)
                return;
            targetLinkAddress = info.LinkAddress;
        }
        if (!targetLinkAddress.IsUnicast)
        {
            stats.Add(worker, StatCounter.NdpInvalidReceived);
            return;
        }
        // The cache applies the §7.2.5 table of solicited and override flags (behaviour 47).
        _nic.Ipv6Neighbors.HandleConfirmation(target, targetLinkAddress, icmp.SolicitedFlag, icmp.OverrideFlag, worker);
    }

    /// <summary>Sends a Neighbor Solicitation for <paramref name="target"/>: to its solicited-node group, or unicast to <paramref name="unicastTo"/> when that is not zero.</summary>
    public bool SendSolicitation(int worker, Ipv6Address target, MacAddress unicastTo)
    {
        MacAddress self = _nic.Link.LinkAddress;
        Ipv6Address destination = unicastTo.IsZero ? target.SolicitedNodeMulticast : target;
        MacAddress linkDestination = unicastTo.IsZero ? MacAddress.FromIpv6Multicast(destination) : unicastTo;
        Ipv6Address source = ChooseProbeSource(target);
        Span<byte> frame = stackalloc byte[NdpFrameLength];
        frame.Clear();
        new EthernetHeader(linkDestination, self, EtherType.Ipv6).Emit(frame);
        new Ipv6Header(source, destination, IpProtocol.Icmpv6, NdpHopLimit, NdpMessageLength + LinkLayerOptionLength).Emit(frame[LinkHeaderLength..]);
        Span<byte> message = frame[(LinkHeaderLength + Ipv6Packet.HeaderLength)..];
        target.CopyTo(message[8..]);
        message[NdpMessageLength] = NdpOptionReader.SourceLinkLayerAddress;
        message[NdpMessageLength + 1] = 1;
        self.CopyTo(message[(NdpMessageLength + 2)..]);
        new Icmpv6Header(Icmpv6Type.NeighborSolicitation, 0, 0).EmitWithChecksum(message, source, destination);
        if (!_nic.WriteFrame(worker, frame))
        {
            _nic.Stats.Add(worker, StatCounter.Ipv6OutgoingPacketErrors);
            return false;
        }
        _nic.Stats.Add(worker, StatCounter.Ipv6PacketsSent);
        _nic.Stats.Add(worker, StatCounter.NdpSolicitationsSent);
        return true;
    }

    /// <summary>Sends <paramref name="frame"/> (its Ethernet header still to fill) to <paramref name="nextHop"/>, or queues it in the cache while NDP resolves it.</summary>
    public StackError ResolveAndSend(byte[] frame, Ipv6Address nextHop)
    {
        MacAddress mac;
        if (nextHop.IsMulticast)
            mac = MacAddress.FromIpv6Multicast(nextHop);
        else if (!_nic.Ipv6Neighbors.Resolve(nextHop, frame, tag: 0, out mac))
            return StackError.ResolutionPending;
        new EthernetHeader(mac, _nic.Link.LinkAddress, EtherType.Ipv6).Emit(frame);
        return SendResolved(NicStats.ControlWorker, frame, forwarded: false);
    }

    // A packet the stack originated leaves in fragments if it must; a forwarded one that waited
    // for resolution is never fragmented (RFC 8200 §5): the forwarder already held it to the MTU.
    private StackError SendResolved(int worker, Span<byte> frame, bool forwarded)
    {
        if (!(forwarded ? _nic.WriteFrame(worker, frame) : Output(worker, frame)))
        {
            _nic.Stats.Add(worker, StatCounter.Ipv6OutgoingPacketErrors);
            return StackError.WouldBlock;
        }
        _nic.Stats.Add(worker, StatCounter.Ipv6PacketsSent);
        return StackError.None;
    }

    // RFC 4861 §7.2.2: the source should be an address of ours the neighbour can answer. As Linux's
    // ipv6_dev_get_saddr ranks them (RFC 6724): one of the target's scope (a link-local target gets our
    // link-local address), among those the one whose prefix holds the target, else the first of them.
    private Ipv6Address ChooseProbeSource(Ipv6Address target)
    {
        Ipv6Address sameScope = Ipv6Address.Any;
        Ipv6Address fallback = Ipv6Address.Any;
        foreach (AddressEndpoint ep in _nic.Addresses.Ipv6.Values)
        {
            if (ep.Kind != AddressKind.Permanent)
                continue;
            Ipv6Address address = ep.Address.V6;
            if (address.IsLinkLocal == target.IsLinkLocal)
            {
                if (Ipv6Prefix.Containing(address, ep.PrefixLength).Contains(target))
                    return address;
                if (sameScope.IsUnspecified)
                    sameScope = address;
            }
            if (fallback.IsUnspecified)
                fallback = address;
        }
        return sameScope.IsUnspecified ? fallback : sameScope;
    }

    void INeighborHandler<Ipv6Address>.SendProbe(Ipv6Address target, MacAddress unicastTo) =>
        SendSolicitation(NicStats.ControlWorker, target, unicastTo);

    void INeighborHandler<Ipv6Address>.SendPending(Ipv6Address neighbor, MacAddress linkAddress, ReadOnlySpan<byte> packet, int tag, int worker)
    {
        // The cache reuses the span's buffer when this returns, and the link copies, so fill in a copy.
        Span<byte> frame = packet.Length <= 2048 ? stackalloc byte[packet.Length] : new byte[packet.Length];
        packet.CopyTo(frame);
        new EthernetHeader(linkAddress, _nic.Link.LinkAddress, EtherType.Ipv6).Emit(frame);
        // A non-zero tag names the ingress NIC of a forwarded packet: it counts as forwarded only now that it leaves.
        if (SendResolved(worker, frame, forwarded: tag != 0) == StackError.None && tag != 0)
            _nic.Stats.Add(worker, StatCounter.Ipv6PacketsForwarded);
    }

    void INeighborHandler<Ipv6Address>.PendingFailed(Ipv6Address neighbor, ReadOnlySpan<byte> packet, int tag, PendingFailure reason)
    {
        _nic.Stats.Add(NicStats.ControlWorker, StatCounter.Ipv6OutgoingPacketErrors);
        // A forwarded packet waited tagged with its ingress NIC and its original link header, so
        // its sender hears Address Unreachable (RFC 4443 §3.1 code 3, Linux ndisc_error_report)
        // from that NIC; only a resolution that failed says the neighbour is unreachable.
        if (tag != 0 && reason == PendingFailure.ResolutionFailed && _nic.Stack.TryGetNic(new NicId(tag), out Nic ingress))
        {
            ingress.Stats.Add(NicStats.ControlWorker, StatCounter.Ipv6ForwardingHostUnreachable);
            ingress.SendIcmpv6Error(NicStats.ControlWorker, packet.ToArray(), Icmpv6Type.DestinationUnreachable, Ipv6Forwarder.AddressUnreachable);
        }
    }
}
