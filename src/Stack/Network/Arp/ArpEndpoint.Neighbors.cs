using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Arp;

// Link resolution: ARP feeds the NIC's neighbour cache (the tables branch's NUD cache) and serves
// as its handler, sending probes and the packets that waited for an answer.
internal sealed partial class ArpEndpoint : INeighborHandler<Ipv4Address>
{
    /// <summary>Sends <paramref name="frame"/> (its Ethernet header still to fill) to <paramref name="nextHop"/>, or queues it in the cache while ARP resolves (behaviour 45).</summary>
    public StackError ResolveAndSend(byte[] frame, Ipv4Address nextHop, Ipv4Address source)
    {
        _ = source;
        if (!_nic.Neighbors.Resolve(nextHop, frame, tag: 0, out MacAddress mac))
            return StackError.ResolutionPending;
        new EthernetHeader(mac, _nic.Link.LinkAddress, EtherType.Ipv4).Emit(frame);
        return _nic.SendResolved(NicStats.ControlWorker, frame);
    }

    /// <summary>Disabling the NIC forgets its neighbours (gVisor TestClearNeighborCacheOnNICDisable).</summary>
    public void OnNicDisabled() => _nic.Neighbors.Clear();

    void INeighborHandler<Ipv4Address>.SendProbe(Ipv4Address target, MacAddress unicastTo)
    {
        SendRequest(NicStats.ControlWorker, ProbeSource(target), target, unicastTo.IsZero ? MacAddress.Broadcast : unicastTo);
    }

    // RFC 826 leaves the sender address to us. Linux (arp_announce 0, the default) takes inet_select_addr(dev,
    // target): the NIC's address on the target's subnet, else its main address, so a neighbour on a second subnet
    // is asked from our address there. (Linux would first take a forwarded packet's own source if it were ours;
    // a forwarded packet's never is.)
    private Ipv4Address ProbeSource(Ipv4Address target)
    {
        foreach (AddressEndpoint ep in _nic.Addresses.PrimaryIpv4Array)
        {
            if (ep.Kind == AddressKind.Permanent && Ipv4Prefix.Containing(ep.Address.V4, ep.PrefixLength).Contains(target))
                return ep.Address.V4;
        }
        return _nic.MainAddress(EtherType.Ipv4)?.Address.V4 ?? Ipv4Address.Any;
    }

    void INeighborHandler<Ipv4Address>.SendPending(Ipv4Address neighbor, MacAddress linkAddress, ReadOnlySpan<byte> packet, int tag, int worker)
    {
        // The cache reuses the span's buffer when this returns, and the link copies, so fill in a copy.
        Span<byte> frame = packet.Length <= 2048 ? stackalloc byte[packet.Length] : new byte[packet.Length];
        packet.CopyTo(frame);
        new EthernetHeader(linkAddress, _nic.Link.LinkAddress, EtherType.Ipv4).Emit(frame);
        // A forwarded packet larger than this link's MTU (DF clear) waited whole; fragment it now.
        if (frame.Length - EthernetFrame.UntaggedHeaderLength > _nic.Link.Mtu)
        {
            _nic.Stats.Add(worker, _nic.WriteIpv4Frame(worker, frame) ? StatCounter.Ipv4PacketsSent : StatCounter.Ipv4OutgoingPacketErrors);
            return;
        }
        _nic.SendResolved(worker, frame);
    }

    void INeighborHandler<Ipv4Address>.PendingFailed(Ipv4Address neighbor, ReadOnlySpan<byte> packet, int tag, PendingFailure reason)
    {
        _nic.Stats.Add(NicStats.ControlWorker, StatCounter.Ipv4OutgoingPacketErrors);
        // Behaviour 39: a forwarded packet waits tagged with its ingress NIC (with the frame's
        // original link header), and its sender hears Host Unreachable from that NIC.
        if (tag != 0 && _nic.Stack.TryGetNic(new NicId(tag), out Nic ingress))
            ingress.SendIcmpv4Error(NicStats.ControlWorker, packet.ToArray(), Icmpv4Type.DestinationUnreachable, Network.Ipv4.IcmpDestinationUnreachableCode.HostUnreachable);
    }

    // A request for one of our addresses: the sender is a neighbour whose MAC we now know (Stale).
    private void LearnFromProbe(int worker, Ipv4Address address, MacAddress mac) => _nic.Neighbors.HandleProbe(address, mac, worker);

    // Behaviour 47: the cache makes a solicited reply Reachable and an unsolicited one at most Stale.
    private void LearnFromReply(int worker, Ipv4Address address, MacAddress mac, bool solicited) =>
        _nic.Neighbors.HandleConfirmation(address, mac, solicited, isOverride: true, worker);
}
