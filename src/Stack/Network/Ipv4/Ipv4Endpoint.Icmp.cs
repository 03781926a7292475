using System.Buffers.Binary;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv4;

// ICMPv4 (RFC 792): echo answered in place, errors built in the worker's scratch buffer.
internal sealed partial class Ipv4Endpoint
{
    // RFC 1812 §4.3.2.3: an error carries as much of the original as fits in 576 bytes of IP.
    private const int IcmpErrorIpLimit = 576;
    private const int IcmpErrorFrameLimit = Ipv4Delivery.LinkHeaderLength + IcmpErrorIpLimit;
    private const int MaxOptionsLength = 40;
    // Linux's ip_default_ttl; also what the stack's own UDP replies carry.
    internal const byte DefaultTtl = 64;

    private void HandleIcmp(int worker, AddressSnapshot addresses, ref Ipv4Delivery delivery)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.IcmpPacketsReceived);
        if (!Icmpv4Packet.TryCreate(delivery.Payload, out Icmpv4Packet icmp, out _)
            || ((_nic.Link.Capabilities & Link.LinkCapabilities.RxChecksumOffload) == 0 && !icmp.VerifyChecksum()))
        {
            stats.Add(worker, StatCounter.IcmpInvalidReceived);
            return;
        }
        if (icmp.Type == Icmpv4Type.Timestamp)
        {
            AnswerTimestamp(worker, addresses, ref delivery, icmp);
            return;
        }
        if (icmp.Type != Icmpv4Type.EchoRequest)
        {
            if (icmp.Type == Icmpv4Type.DestinationUnreachable && icmp.Code == IcmpDestinationUnreachableCode.FragmentationNeeded)
                LearnPathMtu(icmp);
            // RFC 1122 §4.1.3.3: an error goes to the transport endpoint that sent the datagram.
            if (icmp.Type is Icmpv4Type.DestinationUnreachable or Icmpv4Type.TimeExceeded or Icmpv4Type.ParameterProblem)
                IcmpErrorDispatch.DeliverV4(_nic, worker, icmp.Buffer[Icmpv4Packet.HeaderLength..], (byte)icmp.Type, icmp.Code, icmp.RestOfHeader);
            return;
        }
        stats.Add(worker, StatCounter.IcmpEchoRequestsReceived);
        Ipv4Packet ip = delivery.Ip;
        Ipv4Address destination = ip.Destination;
        // Like Linux's default icmp_echo_ignore_broadcasts=1: no echo replies to group addresses.
        if (destination.IsBroadcast || destination.IsMulticast || addresses.Ipv4SubnetBroadcasts.Contains(destination))
            return;

        // Options come back as Linux sends them: Record Route and Timestamp with our entries, nothing else.
        Span<byte> replyOptions = stackalloc byte[40];
        int replyOptionsLength = 0;
        if (ip.HeaderLength > Ipv4Packet.MinHeaderLength)
        {
            replyOptionsLength = Ipv4EchoOptions.Build(ip.Options, replyOptions, destination, _nic.Stack);
            if (replyOptionsLength < 0)
                return;
        }

        // The reply is the request turned around in place: MACs and addresses swapped, a fresh TTL,
        // type 0, and both checksums patched (RFC 1624) rather than recomputed over the data. As from Linux's
        // ICMP socket (IP_PMTUDISC_DONT), the reply has no DF and an Identification of its own.
        Span<byte> frame = delivery.Frame;
        MacAddress requester = MacAddress.Read(frame[MacAddress.Length..]);
        requester.CopyTo(frame);
        _nic.Link.LinkAddress.CopyTo(frame[MacAddress.Length..]);

        Ipv4Address source = ip.Source;
        ip.Source = destination;
        ip.Destination = source;
        // Swapping the two addresses leaves the one's-complement sum unchanged; only TTL moves it.
        ushort oldTtlWord = (ushort)((ip.TimeToLive << 8) | (byte)ip.Protocol);
        ip.TimeToLive = DefaultTtl;
        ushort checksum = Checksum.Update(ip.HeaderChecksum, oldTtlWord, (ushort)((DefaultTtl << 8) | (byte)ip.Protocol));
        ushort oldIdentification = ip.Identification;
        ushort identification = NextIdentification(worker);
        ip.Identification = identification;
        checksum = Checksum.Update(checksum, oldIdentification, identification);
        Span<byte> flagsAndOffset = ip.Header[6..8];
        checksum = Checksum.Update(checksum, BinaryPrimitives.ReadUInt16BigEndian(flagsAndOffset), 0);
        flagsAndOffset.Clear();
        ip.HeaderChecksum = checksum;

        ushort oldTypeWord = (ushort)(((byte)icmp.Type << 8) | icmp.Code);
        icmp.Type = Icmpv4Type.EchoReply;
        icmp.Checksum = Checksum.Update(icmp.Checksum, oldTypeWord, (ushort)(((byte)Icmpv4Type.EchoReply << 8) | icmp.Code));
        if (ip.HeaderLength > Ipv4Packet.MinHeaderLength)
            frame = SetEchoOptions(frame, ip, replyOptions[..replyOptionsLength]);

        if (delivery.SendInPlace(frame.Length))
        {
            stats.Add(worker, StatCounter.IcmpEchoRepliesSent);
            stats.Add(worker, StatCounter.Ipv4PacketsSent);
        }
        else
        {
            stats.Add(worker, StatCounter.Ipv4OutgoingPacketErrors);
        }
    }

    // The reply's options in place of the request's, which are at least as long: the ICMP message moves up behind
    // them, and the header gets its new length and a fresh checksum. Returns the shortened frame.
    private static Span<byte> SetEchoOptions(Span<byte> frame, Ipv4Packet ip, scoped ReadOnlySpan<byte> options)
    {
        int oldHeader = ip.HeaderLength;
        int newHeader = Ipv4Packet.MinHeaderLength + options.Length;
        Span<byte> header = frame[Ipv4Delivery.LinkHeaderLength..];
        int payload = ip.TotalLength - oldHeader;
        header.Slice(oldHeader, payload).CopyTo(header[newHeader..]);
        options.CopyTo(header[Ipv4Packet.MinHeaderLength..]);
        header[0] = (byte)(0x40 | (newHeader / 4));
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(newHeader + payload));
        header[10] = 0;
        header[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], Checksum.Compute(header[..newHeader]));
        return frame[..(Ipv4Delivery.LinkHeaderLength + newHeader + payload)];
    }

    // RFC 792's Timestamp, answered as Linux's icmp_timestamp does (Linux answers by default): the request's
    // identifier, sequence number and originate timestamp, and our receive and transmit timestamps, both the
    // milliseconds since midnight UT now; from the address asked, with the request's TOS, no DF. Not to a
    // broadcast or multicast request (icmp_echo_ignore_broadcasts covers both), and not rate-limited (type 14
    // is outside icmp_ratemask).
    private void AnswerTimestamp(int worker, AddressSnapshot addresses, ref Ipv4Delivery delivery, Icmpv4Packet request)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.IcmpTimestampRequestsReceived);
        Ipv4Packet ip = delivery.Ip;
        Ipv4Address destination = ip.Destination;
        ReadOnlySpan<byte> data = request.Buffer[Icmpv4Packet.HeaderLength..];
        if (data.Length < 4)
        {
            stats.Add(worker, StatCounter.IcmpInvalidReceived);
            return;
        }
        if (destination.IsBroadcast || destination.IsMulticast || addresses.Ipv4SubnetBroadcasts.Contains(destination))
            return;

        const int icmpLength = Icmpv4Packet.HeaderLength + 12;
        byte[] scratch = _scratch[worker];
        Span<byte> frame = scratch.AsSpan(0, Ipv4Delivery.LinkHeaderLength + Ipv4Packet.MinHeaderLength + icmpLength);
        new EthernetHeader(delivery.LinkSource, _nic.Link.LinkAddress, EtherType.Ipv4).Emit(frame);
        Span<byte> reply = frame[Ipv4Delivery.LinkHeaderLength..];
        new Ipv4Header(destination, ip.Source, IpProtocol.Icmp, DefaultTtl, icmpLength)
        {
            TypeOfService = ip.TypeOfService,
            Identification = NextIdentification(worker),
        }.Emit(reply);
        Span<byte> message = reply[Ipv4Packet.MinHeaderLength..];
        data[..4].CopyTo(message[Icmpv4Packet.HeaderLength..]);
        uint now = MillisecondsSinceMidnight();
        BinaryPrimitives.WriteUInt32BigEndian(message[(Icmpv4Packet.HeaderLength + 4)..], now);
        BinaryPrimitives.WriteUInt32BigEndian(message[(Icmpv4Packet.HeaderLength + 8)..], now);
        new Icmpv4Header(Icmpv4Type.TimestampReply, 0, request.RestOfHeader).EmitWithChecksum(message);
        if (_nic.WriteFrame(worker, frame))
        {
            stats.Add(worker, StatCounter.IcmpTimestampRepliesSent);
            stats.Add(worker, StatCounter.Ipv4PacketsSent);
        }
        else
        {
            stats.Add(worker, StatCounter.Ipv4OutgoingPacketErrors);
        }
    }

    // RFC 1191: a Fragmentation Needed about a packet from one of our addresses lowers the path MTU toward its
    // destination for everything the stack sends there (Linux's ipv4_update_pmtu, which finds no route, and so
    // changes nothing, for a source that is not ours).
    private void LearnPathMtu(Icmpv4Packet icmp)
    {
        ReadOnlySpan<byte> quoted = icmp.Buffer[Icmpv4Packet.HeaderLength..];
        if (quoted.Length < Ipv4Packet.MinHeaderLength || (quoted[0] >> 4) != 4)
            return;
        Ipv4Address source = Ipv4Address.Read(quoted[12..]);
        if (!Ipv4Forwarder.IsLocalAddress(_nic.Stack, source))
            return;
        _nic.Stack.PathMtus.LearnIpv4(Ipv4Address.Read(quoted[16..]), (int)(icmp.RestOfHeader & 0xFFFF), _nic.Link.Mtu);
    }

    // RFC 792: "milliseconds since midnight UT".
    private uint MillisecondsSinceMidnight() =>
        (uint)(_nic.Stack.Options.WallClock.GetUtcNow().UtcTicks / TimeSpan.TicksPerMillisecond % (24L * 3600 * 1000));

    private void SendError(int worker, AddressSnapshot addresses, ref Ipv4Delivery delivery, Icmpv4Type type, byte code) =>
        SendError(worker, addresses, delivery.Frame, type, code, 0);

    /// <summary>
    /// Sends an ICMP error about the packet in <paramref name="offending"/> (an Ethernet frame,
    /// already validated) back to the MAC it came from, unless RFC 1122 §3.2.2 forbids it
    /// (behaviour 37) or the token bucket is empty (behaviour 38). <paramref name="rest"/> fills the
    /// second word (a pointer, a next-hop MTU, a Redirect's gateway). <paramref name="from"/>, when
    /// given, is the source address; otherwise the offending packet's destination if it is ours,
    /// else the NIC's first address.
    /// </summary>
    internal bool SendError(int worker, AddressSnapshot addresses, Span<byte> offending, Icmpv4Type type, byte code, uint rest, Ipv4Address from = default)
    {
        NicStats stats = _nic.Stats;
        if (!Ipv4Packet.TryCreate(offending[Ipv4Delivery.LinkHeaderLength..], out Ipv4Packet ip, out _))
            return false;
        if (!IsErrorAllowed(addresses, MacAddress.Read(offending), ip))
        {
            stats.Add(worker, StatCounter.IcmpErrorsSuppressed);
            return false;
        }
        if (from.IsUnspecified)
            from = ChooseErrorSource(_nic.Stack, addresses, ip.Destination, ip.Source);
        if (from.IsUnspecified)
        {
            stats.Add(worker, StatCounter.Ipv4OutgoingPacketErrors);
            return false;
        }

        // As Linux's icmp_send: the error carries the offending packet's Record Route and Timestamp with our
        // entries (ip_options_echo), and quotes the packet as its arrival left it (ip_options_compile writes in
        // place and leaves the quoted header checksum as it was). Where an option has room for part of an entry
        // only, Linux sends no error.
        int receivedOptionsLength = ip.HeaderLength - Ipv4Packet.MinHeaderLength;
        Span<byte> arrived = stackalloc byte[MaxOptionsLength];
        Span<byte> errorOptions = stackalloc byte[MaxOptionsLength];
        int errorOptionsLength = 0;
        if (receivedOptionsLength > 0)
        {
            arrived = arrived[..receivedOptionsLength];
            ip.Options.CopyTo(arrived);
            // A Parameter Problem about an option: Linux took in only the options before the bad one.
            int pointer = (int)(rest >> 24);
            int problem = type == Icmpv4Type.ParameterProblem && pointer >= Ipv4Packet.MinHeaderLength ? pointer - Ipv4Packet.MinHeaderLength : int.MaxValue;
            Ipv4Address arrivedAt = ChooseErrorSource(_nic.Stack, addresses, ip.Destination, ip.Source);
            Ipv4EchoOptions.Arrival arrival = Ipv4EchoOptions.Arrive(arrived, arrivedAt, _nic.Stack, problem);
            errorOptionsLength = Ipv4EchoOptions.Echo(arrived, arrival, errorOptions, from, _nic.Stack);
            if (errorOptionsLength < 0)
            {
                stats.Add(worker, StatCounter.IcmpErrorsSuppressed);
                return false;
            }
        }

        // Behaviour 31: Fragmentation Needed drives path MTU discovery and is never rate-limited. A Redirect is
        // outside net.ipv4.icmp_ratemask, so neither bucket applies: Linux limits it by its own backoff per host.
        bool exempt = type == Icmpv4Type.DestinationUnreachable && code == IcmpDestinationUnreachableCode.FragmentationNeeded;
        if (type == Icmpv4Type.Redirect)
        {
            exempt = true;
            if (!_redirectPeers.TryTakeRedirect(worker, ip.Source.Value))
            {
                stats.Add(worker, StatCounter.IcmpRateLimitedHost);
                return false;
            }
        }
        if (!exempt)
        {
            // As Linux since 6.12: the host-wide bucket is checked, then the destination's own credit (for the
            // types of net.ipv4.icmp_ratemask: unreachables, Time Exceeded, Parameter Problem), and only an error
            // both allow takes a host-wide token, so a flood toward one victim cannot drain everyone's errors.
            if (!_errorBuckets.HasToken(worker))
            {
                stats.Add(worker, StatCounter.IcmpRateLimited);
                return false;
            }
            if (type is Icmpv4Type.DestinationUnreachable or Icmpv4Type.TimeExceeded or Icmpv4Type.ParameterProblem
                && !_peerLimits.TryTake(worker, 0, ip.Source.Value, _nic.Stack.Options.IcmpPeerInterval))
            {
                stats.Add(worker, StatCounter.IcmpRateLimitedHost);
                return false;
            }
            _errorBuckets.Consume(worker);
        }
        // Control threads (the forwarding issue's timers, say) get a fresh buffer; workers reuse theirs.
        byte[] scratch = worker >= 0 ? _scratch[worker] : new byte[IcmpErrorFrameLimit];
        ReadOnlySpan<byte> original = ip.Buffer[..ip.TotalLength];
        int headerLength = Ipv4Packet.MinHeaderLength + errorOptionsLength;
        int quoted = Math.Min(original.Length, IcmpErrorIpLimit - headerLength - Icmpv4Packet.HeaderLength);
        int icmpLength = Icmpv4Packet.HeaderLength + quoted;
        Span<byte> frame = scratch.AsSpan(0, Ipv4Delivery.LinkHeaderLength + headerLength + icmpLength);
        new EthernetHeader(MacAddress.Read(offending[MacAddress.Length..]), _nic.Link.LinkAddress, EtherType.Ipv4).Emit(frame);
        Span<byte> reply = frame[Ipv4Delivery.LinkHeaderLength..];
        // RFC 1812 §4.3.2.5: internetwork control precedence for ICMP errors.
        new Ipv4Header(from, ip.Source, IpProtocol.Icmp, DefaultTtl, errorOptionsLength + icmpLength) { TypeOfService = 0xC0, Identification = NextIdentification(worker) }.Emit(reply);
        if (errorOptionsLength > 0)
            AddOptions(reply, errorOptions[..errorOptionsLength]);
        Span<byte> message = reply[headerLength..];
        Span<byte> quote = message[Icmpv4Packet.HeaderLength..];
        original[..quoted].CopyTo(quote);
        if (receivedOptionsLength > 0)
            arrived.CopyTo(quote[Ipv4Packet.MinHeaderLength..]);
        new Icmpv4Header(type, code, rest).EmitWithChecksum(message);

        if (!_nic.WriteFrame(worker, frame))
        {
            stats.Add(worker, StatCounter.Ipv4OutgoingPacketErrors);
            return false;
        }
        stats.Add(worker, StatCounter.Ipv4PacketsSent);
        stats.Add(worker, type switch
        {
            Icmpv4Type.DestinationUnreachable => StatCounter.IcmpDestinationUnreachableSent,
            Icmpv4Type.TimeExceeded => StatCounter.IcmpTimeExceededSent,
            Icmpv4Type.Redirect => StatCounter.IcmpRedirectsSent,
            _ => StatCounter.IcmpParameterProblemSent,
        });
        return true;
    }

    // Turns the 20-octet header Ipv4Header wrote (with the options counted in its length) into one that carries them.
    private static void AddOptions(Span<byte> header, scoped ReadOnlySpan<byte> options)
    {
        options.CopyTo(header[Ipv4Packet.MinHeaderLength..]);
        header[0] = (byte)(0x40 | ((Ipv4Packet.MinHeaderLength + options.Length) / 4));
        header[10] = 0;
        header[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], Checksum.Compute(header[..(Ipv4Packet.MinHeaderLength + options.Length)]));
    }

    // RFC 1122 §3.2.2 and RFC 1812 §4.3.2.7: the packets an error must never be sent about.
    private static bool IsErrorAllowed(AddressSnapshot addresses, MacAddress linkDestination, Ipv4Packet ip)
    {
        if (linkDestination.IsMulticast)
            return false;
        Ipv4Address destination = ip.Destination;
        if (destination.IsBroadcast || destination.IsMulticast || addresses.Ipv4SubnetBroadcasts.Contains(destination))
            return false;
        // A source that does not name a single host: 0.0.0.0 (and 0/8), broadcast, multicast, loopback.
        Ipv4Address source = ip.Source;
        if ((source.Value >> 24) == 0 || source.IsBroadcast || source.IsMulticast || source.IsLoopback
            || addresses.Ipv4SubnetBroadcasts.Contains(source))
            return false;
        if (ip.FragmentOffset != 0)
            return false;
        if (ip.Protocol == IpProtocol.Icmp && ip.Payload.Length > 0)
        {
            // Errors about errors are forbidden; queries (echo, timestamp, information, mask) may get errors.
            byte icmpType = ip.Payload[0];
            if (icmpType is not (0 or 8 or 13 or 14 or 15 or 16 or 17 or 18))
                return false;
        }
        return true;
    }

    // The packet's own destination when it is ours; else, as Linux's icmp_send routes the error back to the sender
    // and inet_select_addr picks the source, our address on the sender's subnet, or the first one when the sender
    // is on none of ours (it came through a router): a host on a second subnet sees the hop by the address it uses.
    private static Ipv4Address ChooseErrorSource(NetworkStack stack, AddressSnapshot addresses, Ipv4Address offendingDestination, Ipv4Address errorDestination)
    {
        // A packet to one of our addresses, on this NIC or another (Linux's icmp_send takes the packet's own
        // destination whenever the route made it local).
        if (!offendingDestination.IsBroadcast
            && ((addresses.Ipv4.TryGetValue(offendingDestination, out AddressEndpoint? own) && own.Kind == AddressKind.Permanent)
                || Ipv4Forwarder.IsLocalAddress(stack, offendingDestination)))
            return offendingDestination;
        Ipv4Address first = Ipv4Address.Any;
        foreach (AddressEndpoint ep in addresses.PrimaryIpv4Array)
        {
            if (ep.Kind != AddressKind.Permanent)
                continue;
            Ipv4Address candidate = ep.Address.V4;
            if (Ipv4Prefix.Containing(candidate, ep.PrefixLength).Contains(errorDestination))
                return candidate;
            if (first.IsUnspecified)
                first = candidate;
        }
        return first;
    }
}
