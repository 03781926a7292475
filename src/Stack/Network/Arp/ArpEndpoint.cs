using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Arp;

/// <summary>ARP (RFC 826) on one NIC: answers requests for our addresses in place, learns senders, announces our addresses, and sends the requests link resolution needs.</summary>
internal sealed partial class ArpEndpoint
{
    private const int FrameLength = EthernetFrame.UntaggedHeaderLength + ArpPacket.Length;

    private readonly Nic _nic;

    public ArpEndpoint(Nic nic) => _nic = nic;

    /// <summary>Handles one ARP frame on the receiving worker; a request for one of our addresses becomes the reply in place.</summary>
    public void HandlePacket(int worker, AddressSnapshot addresses, Span<byte> frame, ref Frame descriptor)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.ArpPacketsReceived);
        if (!ArpPacket.TryCreate(frame[EthernetFrame.UntaggedHeaderLength..], out ArpPacket arp, out _))
        {
            stats.Add(worker, StatCounter.ArpMalformedPacketsReceived);
            return;
        }
        // The kernel's twin learns its neighbours from the same packets; copied before a request becomes our reply.
        if (_nic.PuntHandler is { } punt && IsOwned(addresses, arp.TargetProtocolAddress))
            punt.Punt(_nic, worker, frame[..FrameLength]);
        ArpOperation operation = arp.Operation;
        MacAddress senderMac = arp.SenderHardwareAddress;
        Ipv4Address senderIp = arp.SenderProtocolAddress;
        switch (operation)
        {
            case ArpOperation.Request:
            {
                stats.Add(worker, StatCounter.ArpRequestsReceived);
                Ipv4Address target = arp.TargetProtocolAddress;
                if (!IsOwned(addresses, target) && !IsOwnedByAnotherNic(target))
                {
                    // Behaviour 46: not ours, so neither answered nor learned from.
                    stats.Add(worker, StatCounter.ArpRequestsReceivedUnknownTargetAddress);
                    return;
                }
                if (!senderIp.IsUnspecified && senderMac.IsUnicast)
                    LearnFromProbe(worker, senderIp, senderMac);
                MacAddress self = _nic.Link.LinkAddress;
                // The request turned into its reply in place (RFC 826 "swap fields").
                arp.Operation = ArpOperation.Reply;
                arp.TargetHardwareAddress = senderMac;
                arp.TargetProtocolAddress = senderIp;
                arp.SenderHardwareAddress = self;
                arp.SenderProtocolAddress = target;
                self.CopyTo(frame[MacAddress.Length..]);
                senderMac.CopyTo(frame);
                descriptor.Length = FrameLength;
                descriptor.Action = FrameAction.Transmit;
                stats.Add(worker, StatCounter.ArpOutgoingRepliesSent);
                return;
            }
            case ArpOperation.Reply:
            {
                stats.Add(worker, StatCounter.ArpRepliesReceived);
                if (senderIp.IsUnspecified || !senderMac.IsUnicast)
                    return;
                // Behaviour 47: a reply sent to us alone was solicited; a broadcast one (gratuitous) was not.
                bool solicited = !MacAddress.Read(frame).IsMulticast;
                LearnFromReply(worker, senderIp, senderMac, solicited);
                return;
            }
            default:
                stats.Add(worker, StatCounter.ArpMalformedPacketsReceived);
                return;
        }
    }

    /// <summary>Broadcasts a gratuitous ARP request for a newly added address (RFC 5227 §3 "announcement").</summary>
    public void Announce(Ipv4Address address)
    {
        if (!NeedsArp || !address.IsUnicast || address.IsLoopback)
            return;
        SendRequest(NicStats.ControlWorker, address, address, MacAddress.Broadcast);
    }

    /// <summary>Announces every permanent IPv4 address, as when the NIC comes up.</summary>
    public void AnnounceAll()
    {
        foreach (AddressEndpoint ep in _nic.Addresses.Ipv4.Values)
        {
            if (ep.Kind == AddressKind.Permanent)
                Announce(ep.Address.V4);
        }
    }

    /// <summary>Sends a request asking who has <paramref name="target"/>; <paramref name="destination"/> is broadcast, or the cached MAC for a unicast probe.</summary>
    public bool SendRequest(int worker, Ipv4Address source, Ipv4Address target, MacAddress destination)
    {
        Span<byte> frame = stackalloc byte[FrameLength];
        MacAddress self = _nic.Link.LinkAddress;
        new EthernetHeader(destination, self, EtherType.Arp).Emit(frame);
        new ArpHeader(ArpOperation.Request, self, source, MacAddress.Zero, target).Emit(frame[EthernetFrame.UntaggedHeaderLength..]);
        if (!_nic.WriteFrame(worker, frame))
        {
            _nic.Stats.Add(worker, StatCounter.ArpOutgoingErrors);
            return false;
        }
        _nic.Stats.Add(worker, StatCounter.ArpOutgoingRequestsSent);
        return true;
    }

    private bool NeedsArp => (_nic.Link.Capabilities & LinkCapabilities.ResolutionRequired) != 0;

    // Linux's default arp_ignore 0 (the weak host model): a request for an address of any of our NICs is answered
    // with this NIC's MAC, as the kernel takes a packet to any local address on any interface.
    private bool IsOwnedByAnotherNic(Ipv4Address target) =>
        !target.IsLoopback && Ipv4.Ipv4Forwarder.IsLocalAddress(_nic.Stack, target);

    private static bool IsOwned(AddressSnapshot addresses, Ipv4Address target) =>
        !target.IsBroadcast
        && addresses.Ipv4.TryGetValue(target, out AddressEndpoint? endpoint)
        && endpoint.Kind == AddressKind.Permanent;
}
