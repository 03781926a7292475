using System.Buffers.Binary;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Udp;

// The stack's own responders, echo (RFC 862) and discard (RFC 863), run on the receiving worker.
// An echo reply is the request turned around in the frame it came in, which leaves through its own
// descriptor (FrameAction.Transmit) without a copy, as the ICMP echo reply does.
public sealed partial class UdpProtocol
{
    // xinetd's bad_port_check: no echo to a port below 1024, where another service (an echo, a
    // chargen, a DNS server answering junk with an error) may answer back, and the two loop forever.
    private const ushort LowestEchoedPort = 1024;

    // Each worker's identification counter sits 64 bytes from the next one's.
    private const int IdentificationStride = 16;

    private readonly Lock _serviceLock = new();

    // Per worker, written only by that worker: the counter behind the identification of its next echo reply.
    private readonly int[] _identifications;

    // Written by control threads under _serviceLock with Volatile.Write; workers read it once per datagram.
    private UdpServiceTable _services = UdpServiceTable.Empty;

    /// <summary>The services registered now, in the order they were added.</summary>
    public IReadOnlyList<UdpService> Services => Volatile.Read(ref _services).Services;

    /// <summary>
    /// Runs a <paramref name="kind"/> service on <paramref name="port"/> of <paramref name="localAddress"/>
    /// (null: every address of both families; an unspecified address: every address of its family);
    /// workers answer with it once this returns.
    /// </summary>
    /// <remarks>
    /// A datagram goes to a service only when no <see cref="UdpEndpoint"/> takes it: an endpoint bound
    /// to the port wins, as a socket would. A service on one address wins over a wildcard one on the
    /// same port. Returns <see cref="StackError.PortInUse"/> when a registered service already answers
    /// some of the same datagrams, <see cref="StackError.BadAddress"/> for port 0 or a multicast address.
    /// </remarks>
    public StackError AddService(UdpServiceKind kind, ushort port, IpAddress? localAddress = null)
    {
        if (!Enum.IsDefined(kind))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a service kind");
        if (port == 0 || localAddress is { IsMulticast: true })
            return StackError.BadAddress;
        var service = new UdpService(kind, port, localAddress);
        lock (_serviceLock)
        {
            UdpServiceTable current = _services;
            if (current.Overlaps(service))
                return StackError.PortInUse;
            Volatile.Write(ref _services, new UdpServiceTable([.. current.Services, service]));
        }
        return StackError.None;
    }

    /// <summary>Stops the service registered with exactly these arguments; false if there is none. No worker answers with it once this returns.</summary>
    public bool RemoveService(UdpServiceKind kind, ushort port, IpAddress? localAddress = null)
    {
        var service = new UdpService(kind, port, localAddress);
        lock (_serviceLock)
        {
            UdpService[] current = _services.Services;
            int index = Array.IndexOf(current, service);
            if (index < 0)
                return false;
            Volatile.Write(ref _services, new UdpServiceTable([.. current.AsSpan(0, index), .. current.AsSpan(index + 1)]));
            return true;
        }
    }

    private void Serve(scoped ref Ipv4Delivery delivery, UdpServiceKind kind)
    {
        NicStats stats = delivery.Nic.Stats;
        int worker = delivery.Worker;
        stats.Add(worker, StatCounter.UdpDatagramsReceived);
        if (kind == UdpServiceKind.Discard)
        {
            CountDiscarded(stats, worker, delivery.Payload);
            return;
        }
        Nic nic = delivery.Nic;
        Span<byte> frame = delivery.Frame;
        Ipv4Address client = delivery.Source;
        Ipv4Address server = delivery.Destination;
        int headerLength = delivery.Ip.HeaderLength;
        UdpPacket.TryCreate(delivery.Payload, out UdpPacket request, out _);
        ushort clientPort = request.SourcePort;
        ushort serverPort = request.DestinationPort;
        ushort checksum = request.Checksum;
        int udpLength = request.Length;
        AddressSnapshot addresses = delivery.Addresses;
        // RFC 862 echoes to anyone; a load-test target must not be a reflector, so only a datagram
        // from one host to one of our unicast addresses is answered.
        if (clientPort < LowestEchoedPort || MacAddress.Read(frame).IsMulticast
            || !IsHostSource(addresses, client) || !IsOwnUnicast(nic, addresses, server))
        {
            stats.Add(worker, StatCounter.UdpEchoRefused);
            return;
        }
        // Linux sets DF on a datagram that fits the route's MTU (IP_PMTUDISC_WANT) and gives every
        // datagram a fresh identification, DF or not (measured on 6.18: an unconnected socket's
        // replies count up). A reassembled request's reply may not fit; it leaves in fragments
        // then, without DF. A received frame cannot be split in place.
        bool atomic = Ipv4Packet.MinHeaderLength + udpLength <= nic.Link.Mtu;
        if (!atomic && !delivery.IsReassembled)
        {
            CountReplyError(stats, worker, StatCounter.Ipv4OutgoingPacketErrors);
            return;
        }

        const int udpStart = Ipv4Delivery.LinkHeaderLength + Ipv4Packet.MinHeaderLength;
        // Options are the sender's business; a socket's reply carries none, so the datagram moves up
        // behind a bare header.
        if (headerLength != Ipv4Packet.MinHeaderLength)
            frame.Slice(Ipv4Delivery.LinkHeaderLength + headerLength, udpLength).CopyTo(frame[udpStart..]);
        TurnAround(frame, nic.Link.LinkAddress);
        new Ipv4Header(server, client, IpProtocol.Udp, Ipv4Endpoint.DefaultTtl, udpLength)
        {
            DontFragment = atomic,
            Identification = NextIdentification(worker),
        }.Emit(frame[Ipv4Delivery.LinkHeaderLength..]);
        Span<byte> reply = frame.Slice(udpStart, udpLength);
        if (checksum == 0)
        {
            // The request carried no checksum (RFC 768 allows that over IPv4); a socket's reply has one.
            new UdpHeader(serverPort, clientPort, udpLength - UdpPacket.HeaderLength).EmitWithChecksum(reply, server, client);
        }
        else
        {
            // Swapping the addresses and the ports leaves every summed word in place: the checksum stands.
            SwapPorts(reply, clientPort, serverPort);
        }
        if (!delivery.SendInPlace(udpStart + udpLength))
        {
            CountReplyError(stats, worker, StatCounter.Ipv4OutgoingPacketErrors);
            return;
        }
        stats.Add(worker, StatCounter.Ipv4PacketsSent);
        CountReply(stats, worker, udpLength);
    }

    private void Serve(scoped ref Ipv6Delivery delivery, UdpServiceKind kind)
    {
        NicStats stats = delivery.Nic.Stats;
        int worker = delivery.Worker;
        stats.Add(worker, StatCounter.UdpDatagramsReceived);
        if (kind == UdpServiceKind.Discard)
        {
            CountDiscarded(stats, worker, delivery.Payload);
            return;
        }
        Nic nic = delivery.Nic;
        Span<byte> frame = delivery.Frame;
        Ipv6Address client = delivery.Source;
        Ipv6Address server = delivery.Destination;
        UdpPacket.TryCreate(delivery.Payload, out UdpPacket request, out _);
        ushort clientPort = request.SourcePort;
        ushort serverPort = request.DestinationPort;
        int udpLength = request.Length;
        if (clientPort < LowestEchoedPort || MacAddress.Read(frame).IsMulticast
            || !client.IsUnicast || !IsOwnUnicast(nic, delivery.Addresses, server))
        {
            stats.Add(worker, StatCounter.UdpEchoRefused);
            return;
        }
        // The stack does not fragment IPv6 it sends: a reassembled request too big for one packet
        // goes unanswered, and is counted.
        if (Ipv6Packet.HeaderLength + udpLength > nic.Link.Mtu)
        {
            CountReplyError(stats, worker, StatCounter.Ipv6OutgoingPacketErrors);
            return;
        }

        const int udpStart = Ipv6Delivery.LinkHeaderLength + Ipv6Packet.HeaderLength;
        // Extension headers (options, a fragment header) are the sender's business, not the reply's.
        if (delivery.UpperLayerOffset != Ipv6Packet.HeaderLength)
            delivery.Payload[..udpLength].CopyTo(frame[udpStart..]);
        TurnAround(frame, nic.Link.LinkAddress);
        new Ipv6Header(server, client, IpProtocol.Udp, Ipv6Endpoint.DefaultHopLimit, udpLength)
        {
            FlowLabel = Ipv6FlowLabel.For(server, client, IpProtocol.Udp, serverPort, clientPort),
        }.Emit(frame[Ipv6Delivery.LinkHeaderLength..]);
        // Swapping the addresses and the ports leaves every summed word in place: the checksum
        // (never 0 over IPv6, RFC 8200 §8.1) stands.
        SwapPorts(frame.Slice(udpStart, udpLength), clientPort, serverPort);
        if (!delivery.SendInPlace(udpStart + udpLength))
        {
            CountReplyError(stats, worker, StatCounter.Ipv6OutgoingPacketErrors);
            return;
        }
        stats.Add(worker, StatCounter.Ipv6PacketsSent);
        CountReply(stats, worker, udpLength);
    }

    // Worker w hands out identifications congruent to w modulo the worker count W, so two workers
    // never give the same one to replies that meet at one client until the 16 bits wrap (RFC 6864
    // §4.2 wants them unique per source, destination and protocol while fragments may be in flight).
    // Each counter starts at random, as Linux's per-destination ones do.
    private ushort NextIdentification(int worker)
    {
        ref int next = ref _identifications[worker * IdentificationStride];
        return (ushort)((next++ * Stack.Workers) + worker);
    }

    private static int[] CreateIdentificationCounters(int workers)
    {
        int[] counters = new int[workers * IdentificationStride];
        for (int w = 0; w < workers; w++)
            counters[w * IdentificationStride] = Random.Shared.Next(ushort.MaxValue + 1);
        return counters;
    }

    // A source that names one host: not this network (0/8, RFC 1122 §3.2.1.3), not a broadcast or
    // multicast address. The IPv4 endpoint dropped most of these already; 0/8 it lets through.
    private static bool IsHostSource(AddressSnapshot addresses, Ipv4Address source) =>
        (source.Value >> 24) != 0 && !source.IsBroadcast && !source.IsMulticast && !addresses.Ipv4SubnetBroadcasts.Contains(source);

    // One of our addresses a reply may come from. The receiving NIC's, or one inside a subnet it
    // answers for (AddSubnet, less that subnet's broadcast), or another NIC's (the weak host model,
    // behaviour 32). Never a broadcast or multicast address, and not an address promiscuous mode
    // let in.
    private static bool IsOwnUnicast(Nic nic, AddressSnapshot addresses, Ipv4Address destination)
    {
        if (destination.IsBroadcast || destination.IsMulticast || addresses.Ipv4SubnetBroadcasts.Contains(destination))
            return false;
        if (addresses.Ipv4.TryGetValue(destination, out AddressEndpoint? own))
            return own.IsValidForOutgoing;
        foreach (Ipv4Prefix subnet in addresses.Ipv4SubnetArray)
        {
            if (subnet.Contains(destination))
                return subnet.Length > 30 || destination != subnet.LastAddress;
        }
        foreach (Nic other in nic.Stack.NicArray)
        {
            if (other != nic && other.Enabled && other.Addresses.Ipv4.TryGetValue(destination, out own) && own.Kind == AddressKind.Permanent)
                return true;
        }
        return false;
    }

    private static bool IsOwnUnicast(Nic nic, AddressSnapshot addresses, Ipv6Address destination)
    {
        if (!destination.IsUnicast)
            return false;
        if (addresses.Ipv6.TryGetValue(destination, out AddressEndpoint? own))
            return own.IsValidForOutgoing;
        foreach (Nic other in nic.Stack.NicArray)
        {
            if (other != nic && other.Enabled && other.Addresses.Ipv6.TryGetValue(destination, out own) && own.Kind == AddressKind.Permanent)
                return true;
        }
        return false;
    }

    // The reply goes to the MAC the request came from, as the ICMP echo reply does: the sender
    // itself when on link, else the router that delivered it.
    private static void TurnAround(Span<byte> frame, MacAddress ours)
    {
        MacAddress.Read(frame[MacAddress.Length..]).CopyTo(frame);
        ours.CopyTo(frame[MacAddress.Length..]);
    }

    private static void SwapPorts(Span<byte> datagram, ushort clientPort, ushort serverPort)
    {
        BinaryPrimitives.WriteUInt16BigEndian(datagram, serverPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[2..], clientPort);
    }

    private static void CountDiscarded(NicStats stats, int worker, Span<byte> segment)
    {
        UdpPacket.TryCreate(segment, out UdpPacket datagram, out _);
        stats.Add(worker, StatCounter.UdpDiscarded);
        stats.Add(worker, StatCounter.UdpDiscardedBytes, datagram.Length - UdpPacket.HeaderLength);
    }

    private static void CountReply(NicStats stats, int worker, int udpLength)
    {
        stats.Add(worker, StatCounter.UdpDatagramsSent);
        stats.Add(worker, StatCounter.UdpEchoReplies);
        stats.Add(worker, StatCounter.UdpEchoBytes, udpLength - UdpPacket.HeaderLength);
    }

    private static void CountReplyError(NicStats stats, int worker, StatCounter networkCounter)
    {
        stats.Add(worker, StatCounter.UdpEchoReplyErrors);
        stats.Add(worker, networkCounter);
    }
}
