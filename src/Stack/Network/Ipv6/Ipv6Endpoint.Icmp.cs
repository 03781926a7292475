using System.Buffers.Binary;
using XdpStack.Stack.Link;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

// ICMPv6 (RFC 4443): echo answered in place, errors built in the worker's scratch buffer.
internal sealed partial class Ipv6Endpoint
{
    // RFC 4443 §2.4(c): an error carries as much of the original as fits in the minimum MTU.
    private const int MinimumMtu = 1280;
    private const int IcmpErrorFrameLimit = LinkHeaderLength + MinimumMtu;
    // Linux's hop_limit default; also what the stack's own UDP replies carry.
    internal const byte DefaultHopLimit = 64;

    private void HandleIcmp(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6ExtensionChain chain, ref Frame descriptor, bool reassembled)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.Icmpv6PacketsReceived);
        Span<byte> ipBytes = frame[LinkHeaderLength..];
        Ipv6Packet.TryCreate(ipBytes, out Ipv6Packet ip, out _);
        Span<byte> message = ipBytes.Slice(chain.UpperLayerOffset, chain.UpperLayerLength);
        if (!Icmpv6Packet.TryCreate(message, out Icmpv6Packet icmp, out _)
            || ((_nic.Link.Capabilities & LinkCapabilities.RxChecksumOffload) == 0 && !icmp.VerifyChecksum(ip.Source, ip.Destination)))
        {
            stats.Add(worker, StatCounter.Icmpv6InvalidReceived);
            return;
        }
        switch (icmp.Type)
        {
            case Icmpv6Type.EchoRequest:
                HandleEcho(worker, addresses, frame, chain, ref descriptor, reassembled);
                return;
            case Icmpv6Type.NeighborSolicitation:
                HandleSolicitation(worker, addresses, frame, chain, ref descriptor, reassembled);
                return;
            case Icmpv6Type.NeighborAdvertisement:
                HandleAdvertisement(worker, frame, chain);
                return;
            case Icmpv6Type.DestinationUnreachable or Icmpv6Type.PacketTooBig or Icmpv6Type.TimeExceeded or Icmpv6Type.ParameterProblem:
                if (icmp.Type == Icmpv6Type.PacketTooBig)
                    LearnPathMtu(icmp);
                // RFC 4443 §3: an error goes to the transport endpoint that sent the packet.
                IcmpErrorDispatch.DeliverV6(_nic, worker, icmp.Data, (byte)icmp.Type, icmp.Code, icmp.RestOfHeader);
                return;
        }
    }

    // RFC 8201: a Packet Too Big about a packet from one of our addresses lowers the path MTU toward its destination
    // for everything the stack sends there (Linux's ip6_update_pmtu; one below 1280 is ignored).
    private void LearnPathMtu(Icmpv6Packet icmp)
    {
        ReadOnlySpan<byte> quoted = icmp.Data;
        if (quoted.Length < Ipv6Packet.HeaderLength || (quoted[0] >> 4) != 6)
            return;
        if (!IsOurs(new Ipv6Address(quoted.Slice(8, 16))))
            return;
        _nic.Stack.PathMtus.LearnIpv6(new Ipv6Address(quoted.Slice(24, 16)), (int)Math.Min(icmp.RestOfHeader, int.MaxValue), _nic.Link.Mtu);
    }

    // A Subnet-Router anycast address of any NIC (the weak host model, as Linux's local table holds them all).
    private bool IsStackAnycast(Ipv6Address address)
    {
        foreach (Nic nic in _nic.Stack.NicArray)
        {
            if (nic.IsSubnetRouterAnycast(address))
                return true;
        }
        return false;
    }

    // A permanent address of any enabled NIC (the weak host model).
    private bool IsOurs(Ipv6Address address)
    {
        foreach (Nic nic in _nic.Stack.NicArray)
        {
            if (nic.Enabled && nic.Addresses.Ipv6.TryGetValue(address, out AddressEndpoint? own) && own.Kind == AddressKind.Permanent)
                return true;
        }
        return false;
    }

    private void HandleEcho(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6ExtensionChain chain, ref Frame descriptor, bool reassembled)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.Icmpv6EchoRequestsReceived);
        Ipv6Packet.TryCreate(frame[LinkHeaderLength..], out Ipv6Packet ip, out _);
        Ipv6Address destination = ip.Destination;
        Ipv6Address source = ip.Source;
        // A group we are in (all-nodes, say) is answered too, as Linux does (icmpv6_echo_ignore_multicast 0): from
        // the address source selection picks for the requester, with no delay, and within the ICMP limits that
        // Linux's icmpv6_echo_reply applies to any echo not to a unicast address.
        bool toGroup = destination.IsMulticast;
        if (toGroup)
        {
            if (!source.IsUnicast || !_errorBuckets.HasToken(worker))
                return;
            if (!_peerLimits.TryTake(worker, source.High, source.Low, PeerInterval(source)))
            {
                stats.Add(worker, StatCounter.Icmpv6RateLimitedHost);
                return;
            }
            _errorBuckets.Consume(worker);
            destination = ChooseErrorSource(_nic.Stack, addresses, destination, source);
            if (destination.IsUnspecified)
                return;
        }
        else if (IsStackAnycast(destination))
        {
            // A Subnet-Router anycast address is not a source (Linux's anycast_src_echo_reply 0): the reply comes from
            // the address source selection picks for the requester, like a group's.
            toGroup = true;
            destination = ChooseErrorSource(_nic.Stack, addresses, destination, source);
            if (destination.IsUnspecified)
                return;
        }
        else if (!destination.IsUnicast)
        {
            return;
        }
        int icmpLength = chain.UpperLayerLength;
        Span<byte> ipBytes = frame[LinkHeaderLength..];

        MacAddress requester = MacAddress.Read(frame[MacAddress.Length..]);
        requester.CopyTo(frame);
        _nic.Link.LinkAddress.CopyTo(frame[MacAddress.Length..]);
        ip.Source = destination;
        ip.Destination = source;
        ip.HopLimit = DefaultHopLimit;
        // The request's traffic class stays; the label is the reply flow's own (Linux does not reflect it by default).
        uint versionClassLabel = BinaryPrimitives.ReadUInt32BigEndian(ipBytes);
        BinaryPrimitives.WriteUInt32BigEndian(ipBytes, (versionClassLabel & 0xFFF0_0000) | Ipv6FlowLabel.For(destination, source, IpProtocol.Icmpv6));
        if (chain.UpperLayerOffset != Ipv6Packet.HeaderLength || toGroup)
        {
            // Extension headers (options, a fragment header) are the sender's business, not the
            // reply's: move the message up behind the fixed header and recompute its checksum (also
            // when our source replaced a group address, which changes the pseudo-header).
            ipBytes.Slice(chain.UpperLayerOffset, icmpLength).CopyTo(ipBytes[Ipv6Packet.HeaderLength..]);
            ipBytes[6] = (byte)IpProtocol.Icmpv6;
            BinaryPrimitives.WriteUInt16BigEndian(ipBytes[4..], (ushort)icmpLength);
            Icmpv6Packet.TryCreate(ipBytes.Slice(Ipv6Packet.HeaderLength, icmpLength), out Icmpv6Packet moved, out _);
            moved.Type = Icmpv6Type.EchoReply;
            moved.FillChecksum(destination, source);
        }
        else
        {
            // Swapping the addresses leaves the pseudo-header sum as it was; only the type moves it.
            Icmpv6Packet.TryCreate(ipBytes.Slice(Ipv6Packet.HeaderLength, icmpLength), out Icmpv6Packet icmp, out _);
            ushort oldTypeWord = (ushort)(((byte)icmp.Type << 8) | icmp.Code);
            icmp.Type = Icmpv6Type.EchoReply;
            icmp.Checksum = Checksum.Update(icmp.Checksum, oldTypeWord, (ushort)(((byte)Icmpv6Type.EchoReply << 8) | icmp.Code));
        }
        if (SendInPlace(worker, frame, LinkHeaderLength + Ipv6Packet.HeaderLength + icmpLength, ref descriptor, reassembled))
            stats.Add(worker, StatCounter.Icmpv6EchoRepliesSent);
    }

    // A received frame goes back out through its own descriptor; a reassembled one is copied, in
    // fragments when it exceeds the MTU (issue 11), and so is a received one that does (a peer
    // with a larger MTU), its descriptor left to be released.
    private bool SendInPlace(int worker, Span<byte> frame, int length, ref Frame descriptor, bool reassembled)
    {
        NicStats stats = _nic.Stats;
        bool sent;
        if (reassembled || length - LinkHeaderLength > PathMtu(frame[..length]))
        {
            sent = Output(worker, frame[..length]);
        }
        else
        {
            descriptor.Length = length;
            descriptor.Action = FrameAction.Transmit;
            sent = true;
        }
        stats.Add(worker, sent ? StatCounter.Ipv6PacketsSent : StatCounter.Ipv6OutgoingPacketErrors);
        return sent;
    }

    // The time that earns one error toward a destination. Linux's icmpv6_xrlim_allow shortens it for destinations whose
    // route is wider than /128, but the route it looks at is the per-destination copy (a /128), so on the wire a host
    // on a connected /64 gets the sysctl's interval as it is (measured: 100 ms on 6.18).
    private TimeSpan PeerInterval(Ipv6Address destination) => _nic.Stack.Options.Icmpv6PeerInterval;

    /// <summary>
    /// Sends an ICMPv6 error about the packet in <paramref name="offending"/> (an Ethernet frame
    /// with a valid IPv6 header) back to the MAC it came from, unless RFC 4443 §2.4(e) forbids it or
    /// the token bucket is empty (RFC 4443 §2.4(f)); <paramref name="rest"/> is the pointer or MTU.
    /// </summary>
    internal bool SendError(int worker, AddressSnapshot addresses, Span<byte> offending, Icmpv6Type type, byte code, uint rest)
    {
        NicStats stats = _nic.Stats;
        if (!Ipv6Packet.TryCreate(offending[LinkHeaderLength..], out Ipv6Packet ip, out _))
            return false;
        if (!IsErrorAllowed(MacAddress.Read(offending), ip, type, code))
        {
            stats.Add(worker, StatCounter.Icmpv6ErrorsSuppressed);
            return false;
        }
        // Packet Too Big skips the bucket, as in Linux: net.ipv6.icmp.ratemask defaults to
        // 0-1,3-127, every error but type 2, so that path MTU discovery keeps working (kernel
        // commit 0bc199854405, 2019). RFC 4443 §2.4(f) would limit it too; the IPv4 router
        // likewise never limits Fragmentation Needed.
        if (type != Icmpv6Type.PacketTooBig)
        {
            // Host-wide bucket first, then the destination's own credit, and a host-wide token only for an error
            // both allow (Linux icmp6_send since 6.12).
            if (!_errorBuckets.HasToken(worker))
            {
                stats.Add(worker, StatCounter.Icmpv6RateLimited);
                return false;
            }
            if (!_peerLimits.TryTake(worker, ip.Source.High, ip.Source.Low, PeerInterval(ip.Source)))
            {
                stats.Add(worker, StatCounter.Icmpv6RateLimitedHost);
                return false;
            }
            _errorBuckets.Consume(worker);
        }
        Ipv6Address from = ChooseErrorSource(_nic.Stack, addresses, ip.Destination, ip.Source);
        if (from.IsUnspecified)
        {
            stats.Add(worker, StatCounter.Ipv6OutgoingPacketErrors);
            return false;
        }
        byte[] scratch = worker >= 0 ? _scratch[worker] : new byte[IcmpErrorFrameLimit];
        ReadOnlySpan<byte> original = ip.Packet;
        int quoted = Math.Min(original.Length, MinimumMtu - Ipv6Packet.HeaderLength - Icmpv6Packet.HeaderLength);
        int icmpLength = Icmpv6Packet.HeaderLength + quoted;
        Span<byte> frame = scratch.AsSpan(0, LinkHeaderLength + Ipv6Packet.HeaderLength + icmpLength);
        new EthernetHeader(MacAddress.Read(offending[MacAddress.Length..]), _nic.Link.LinkAddress, EtherType.Ipv6).Emit(frame);
        Ipv6Address to = ip.Source;
        new Ipv6Header(from, to, IpProtocol.Icmpv6, DefaultHopLimit, icmpLength)
        {
            FlowLabel = Ipv6FlowLabel.For(from, to, IpProtocol.Icmpv6),
        }.Emit(frame[LinkHeaderLength..]);
        Span<byte> message = frame[(LinkHeaderLength + Ipv6Packet.HeaderLength)..];
        original[..quoted].CopyTo(message[Icmpv6Packet.HeaderLength..]);
        new Icmpv6Header(type, code, rest).EmitWithChecksum(message, from, to);
        // At most 1280 octets (§2.4(c)), so whole on any IPv6 link (RFC 8200 §5); Output only
        // fragments one on a link below that minimum.
        if (!Output(worker, frame))
        {
            stats.Add(worker, StatCounter.Ipv6OutgoingPacketErrors);
            return false;
        }
        stats.Add(worker, StatCounter.Ipv6PacketsSent);
        stats.Add(worker, StatCounter.Icmpv6ErrorsSent);
        return true;
    }

    private static bool IsLocalUnicast(NetworkStack stack, Ipv6Address address)
    {
        if (!address.IsUnicast)
            return false;
        foreach (Nic nic in stack.NicArray)
        {
            if (nic.Enabled && nic.Addresses.Ipv6.TryGetValue(address, out AddressEndpoint? own) && own.Kind == AddressKind.Permanent)
                return true;
        }
        return false;
    }

    // RFC 4443 §2.4(e): no error about an error, about a packet to a multicast address (except
    // Packet Too Big and an unrecognized option, code 2), sent as link multicast, or from a source
    // that does not name one node.
    private static bool IsErrorAllowed(MacAddress linkDestination, Ipv6Packet ip, Icmpv6Type type, byte code)
    {
        bool exempt = type == Icmpv6Type.PacketTooBig || (type == Icmpv6Type.ParameterProblem && code == 2);
        if (!exempt && (linkDestination.IsMulticast || ip.Destination.IsMulticast))
            return false;
        Ipv6Address source = ip.Source;
        if (!source.IsUnicast || source.IsLoopback)
            return false;
        if (Ipv6ExtensionHeaderReader.TryWalk(ip, out Ipv6ExtensionChain chain, out _)
            && chain.UpperLayerProtocol == IpProtocol.Icmpv6 && chain.FragmentOffset == 0 && chain.UpperLayerLength > 0)
        {
            // Types below 128 are errors (RFC 4443 §2.1).
            if (ip.Packet[chain.UpperLayerOffset] < 128)
                return false;
        }
        return true;
    }

    // The packet's own destination when it is ours (Linux's icmp6_send); else, as Linux's ipv6_dev_get_saddr ranks
    // them (RFC 6724): an address of the error's destination's scope (rule 2: a global sender never hears from a
    // link-local address listed first, a link-local one hears from ours on the link), among those the one whose
    // prefix holds the destination (rule 8, longest match, for an on-link sender), else the first; any address
    // when none has the scope.
    private static Ipv6Address ChooseErrorSource(NetworkStack stack, AddressSnapshot addresses, Ipv6Address offendingDestination, Ipv6Address errorDestination)
    {
        // A packet to one of our addresses, on this NIC or another: the error comes from it (Linux's icmp6_send).
        if ((addresses.Ipv6.TryGetValue(offendingDestination, out AddressEndpoint? own) && own.Kind == AddressKind.Permanent)
            || IsLocalUnicast(stack, offendingDestination))
            return offendingDestination;
        // Indexed, not foreach: an interface enumerator would allocate on the receive path.
        IReadOnlyList<AddressEndpoint> primary = addresses.PrimaryIpv6;
        Ipv6Address sameScope = Ipv6Address.Any;
        Ipv6Address fallback = Ipv6Address.Any;
        for (int i = 0; i < primary.Count; i++)
        {
            if (primary[i].Kind != AddressKind.Permanent)
                continue;
            Ipv6Address candidate = primary[i].Address.V6;
            if (candidate.IsLinkLocal == errorDestination.IsLinkLocal)
            {
                if (Ipv6Prefix.Containing(candidate, primary[i].PrefixLength).Contains(errorDestination))
                    return candidate;
                if (sameScope.IsUnspecified)
                    sameScope = candidate;
            }
            if (fallback.IsUnspecified)
                fallback = candidate;
        }
        return sameScope.IsUnspecified ? fallback : sameScope;
    }
}
