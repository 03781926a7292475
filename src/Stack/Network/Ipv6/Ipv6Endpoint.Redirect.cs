using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

// NDP Redirect (RFC 4861 §4.5, §8.2) as Linux's ip6_forward and ndisc_send_redirect send it: a router that forwards a
// packet back out of the link it came in on tells the sender of a better first hop on that link.
internal sealed partial class Ipv6Endpoint
{
    // Linux limits Redirects with its inet_peer buckets, one per second and six saved up, keyed by the packet's
    // destination in ip6_forward and by its source in ndisc_send_redirect; the source's bucket is the one ICMPv6
    // errors to that host draw on too.
    private static readonly TimeSpan RedirectInterval = TimeSpan.FromSeconds(1);

    // ICMPv6 header, Target Address and Destination Address (RFC 4861 §4.5).
    private const int RedirectMessageLength = 40;

    /// <summary>
    /// Sends a Redirect about the packet in <paramref name="offending"/> (an Ethernet frame as it arrived on this NIC,
    /// to be forwarded back out of it) to its sender: <paramref name="target"/> is the better first hop, the
    /// packet's own destination when that is on the link. Linux's conditions: the target is the destination or a
    /// link-local router (ndisc_send_redirect's "target address is not link-local unicast"), this NIC has a
    /// link-local address to send from, and both the destination's and the source's buckets allow it.
    /// </summary>
    internal bool SendRedirect(int worker, AddressSnapshot addresses, Span<byte> offending, Ipv6Address target)
    {
        if (!Ipv6Packet.TryCreate(offending[LinkHeaderLength..], out Ipv6Packet ip, out _))
            return false;
        Ipv6Address destination = ip.Destination;
        Ipv6Address source = ip.Source;
        if (target != destination && !target.IsLinkLocal)
            return false;
        Ipv6Address from = LinkLocalAddress(addresses);
        if (from.IsUnspecified)
            return false;
        if (!_peerLimits.TryTake(worker, destination.High, destination.Low, RedirectInterval)
            || !_peerLimits.TryTake(worker, source.High, source.Low, RedirectInterval))
        {
            _nic.Stats.Add(worker, StatCounter.Icmpv6RateLimitedHost);
            return false;
        }

        // The target's link address goes along when the cache holds a usable one (Linux: NUD_VALID).
        bool withTargetAddress = _nic.Ipv6Neighbors.TryPeekLinkAddress(target, out MacAddress targetLinkAddress);
        int optionsLength = withTargetAddress ? LinkLayerOptionLength : 0;
        // As much of the packet as keeps the Redirect within the minimum MTU, in whole 8-octet units with the
        // option's own 8 (Linux's rd_len).
        ReadOnlySpan<byte> original = ip.Packet;
        int redirectedLength = Math.Min(MinimumMtu - Ipv6Packet.HeaderLength - RedirectMessageLength - optionsLength, original.Length + 8) & ~7;
        int icmpLength = RedirectMessageLength + optionsLength + redirectedLength;

        byte[] scratch = worker >= 0 ? _scratch[worker] : new byte[IcmpErrorFrameLimit];
        Span<byte> frame = scratch.AsSpan(0, LinkHeaderLength + Ipv6Packet.HeaderLength + icmpLength);
        frame.Clear();
        new EthernetHeader(MacAddress.Read(offending[MacAddress.Length..]), _nic.Link.LinkAddress, EtherType.Ipv6).Emit(frame);
        new Ipv6Header(from, source, IpProtocol.Icmpv6, NdpHopLimit, icmpLength).Emit(frame[LinkHeaderLength..]);
        Span<byte> message = frame[(LinkHeaderLength + Ipv6Packet.HeaderLength)..];
        target.CopyTo(message[8..]);
        destination.CopyTo(message[24..]);
        Span<byte> option = message[RedirectMessageLength..];
        if (withTargetAddress)
        {
            option[0] = NdpOptionReader.TargetLinkLayerAddress;
            option[1] = 1;
            targetLinkAddress.CopyTo(option[2..]);
            option = option[LinkLayerOptionLength..];
        }
        if (redirectedLength > 0)
        {
            option[0] = NdpOptionReader.RedirectedHeader;
            option[1] = (byte)(redirectedLength >> 3);
            original[..(redirectedLength - 8)].CopyTo(option[8..]);
        }
        new Icmpv6Header(Icmpv6Type.Redirect, 0, 0).EmitWithChecksum(message, from, source);
        if (!_nic.WriteFrame(worker, frame))
        {
            _nic.Stats.Add(worker, StatCounter.Ipv6OutgoingPacketErrors);
            return false;
        }
        _nic.Stats.Add(worker, StatCounter.Ipv6PacketsSent);
        _nic.Stats.Add(worker, StatCounter.Icmpv6RedirectsSent);
        return true;
    }

    // The source RFC 4861 §4.5 requires (Linux's ipv6_get_lladdr): one of this NIC's link-local addresses.
    private static Ipv6Address LinkLocalAddress(AddressSnapshot addresses)
    {
        // Indexed over the frozen dictionary's value array: nothing allocated on the forwarding path.
        System.Collections.Immutable.ImmutableArray<AddressEndpoint> all = addresses.Ipv6.Values;
        for (int i = 0; i < all.Length; i++)
        {
            AddressEndpoint ep = all[i];
            if (ep.Kind == AddressKind.Permanent && ep.Address.V6.IsLinkLocal)
                return ep.Address.V6;
        }
        return Ipv6Address.Any;
    }
}
