using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Udp;

/// <summary>UDP (RFC 768) for a stack: checks received datagrams, demultiplexes them to <see cref="UdpEndpoint"/>s or the stack's own echo and discard services, and routes ICMP errors back to the sender.</summary>
/// <remarks>
/// Receive runs on workers: one read of the worker's own demux shard, a copy into the endpoint's ring for
/// that worker, no lock, no allocation. A datagram no endpoint takes goes to a service on its port
/// (<see cref="AddService"/>), then to <see cref="DefaultHandler"/>, and then becomes ICMP Port
/// Unreachable (behaviour 25), which the network layer sends subject to its rate limit and
/// RFC 1122 / RFC 4443 rules.
/// </remarks>
public sealed partial class UdpProtocol : IIpv6TransportProtocol, IIcmpErrorReceiver
{
    private const ushort FirstEphemeralPort = 32768;
    private const ushort LastEphemeralPort = 60999;

    private readonly Lock _portLock = new();
    private UdpDefaultHandler? _defaultHandler;
    private int _nextEphemeral = FirstEphemeralPort;

    private UdpProtocol(NetworkStack stack)
    {
        Stack = stack;
        Demuxer = new TransportDemuxer<UdpEndpoint>(stack.Workers);
        _identifications = CreateIdentificationCounters(stack.Workers);
    }

    public IpProtocol Protocol => IpProtocol.Udp;

    public NetworkStack Stack { get; }

    /// <summary>The endpoints by key, as the workers see them.</summary>
    public TransportDemuxer<UdpEndpoint> Demuxer { get; }

    /// <summary>Gets or sets the handler tried, after endpoints and services, before Port Unreachable; null for none.</summary>
    public UdpDefaultHandler? DefaultHandler
    {
        get => Volatile.Read(ref _defaultHandler);
        set => Volatile.Write(ref _defaultHandler, value);
    }

    /// <summary>Creates UDP for <paramref name="stack"/> and registers it with its transport table.</summary>
    public static UdpProtocol Install(NetworkStack stack)
    {
        var udp = new UdpProtocol(stack);
        stack.Transports.Register(udp);
        return udp;
    }

    /// <summary>Creates an unbound endpoint with one receive ring per worker of <paramref name="ringCapacity"/> datagrams of up to <paramref name="maxDatagram"/> octets.</summary>
    public UdpEndpoint CreateEndpoint(int ringCapacity = 1024, int maxDatagram = 2048) => new(this, ringCapacity, maxDatagram);

    public TransportVerdict HandlePacket(scoped ref Ipv4Delivery delivery)
    {
        Span<byte> segment = delivery.Payload;
        if (!UdpPacket.TryCreate(segment, out UdpPacket udp, out _))
            return TransportVerdict.Malformed;
        Nic nic = delivery.Nic;
        // RFC 768: a zero checksum over IPv4 means the sender computed none.
        if (udp.Checksum != 0 && (nic.Link.Capabilities & LinkCapabilities.RxChecksumOffload) == 0
            && !udp.VerifyChecksum(delivery.Source, delivery.Destination))
        {
            nic.Stats.Add(delivery.Worker, StatCounter.UdpChecksumErrors);
            return TransportVerdict.Malformed;
        }
        TransportEndpointId id = TransportEndpointId.Create(EtherType.Ipv4, delivery.Destination, udp.DestinationPort, delivery.Source, udp.SourcePort);
        if (TryDeliverToEndpoint(nic, delivery.Worker, id, udp.Payload))
            return TransportVerdict.Handled;
        UdpServiceTable services = Volatile.Read(ref _services);
        if (!services.IsEmpty && services.TryFind(delivery.Destination, udp.DestinationPort, out UdpServiceKind kind))
        {
            Serve(ref delivery, kind);
            return TransportVerdict.Handled;
        }
        return DeliverUnclaimed(nic, delivery.Worker, id, udp.Payload);
    }

    public TransportVerdict HandlePacket(scoped ref Ipv6Delivery delivery)
    {
        if (!UdpPacket.TryCreate(delivery.Payload, out UdpPacket udp, out _))
            return TransportVerdict.Malformed;
        Nic nic = delivery.Nic;
        int worker = delivery.Worker;
        Ipv6Address source = delivery.Source;
        Ipv6Address destination = delivery.Destination;
        // RFC 8200 §8.1: the checksum is mandatory over IPv6, so zero is an error.
        if (udp.Checksum == 0
            || ((nic.Link.Capabilities & LinkCapabilities.RxChecksumOffload) == 0 && !udp.VerifyChecksum(source, destination)))
        {
            nic.Stats.Add(worker, StatCounter.UdpChecksumErrors);
            return TransportVerdict.Malformed;
        }
        TransportEndpointId id = TransportEndpointId.Create(EtherType.Ipv6, destination, udp.DestinationPort, source, udp.SourcePort);
        if (TryDeliverToEndpoint(nic, worker, id, udp.Payload))
            return TransportVerdict.Handled;
        UdpServiceTable services = Volatile.Read(ref _services);
        if (!services.IsEmpty && services.TryFind(destination, udp.DestinationPort, out UdpServiceKind kind))
        {
            Serve(ref delivery, kind);
            return TransportVerdict.Handled;
        }
        return DeliverUnclaimed(nic, worker, id, udp.Payload);
    }

    // A bound endpoint comes first, as a socket on the port would take the datagram before any
    // service of the stack.
    private bool TryDeliverToEndpoint(Nic nic, int worker, in TransportEndpointId id, ReadOnlySpan<byte> payload)
    {
        if (Demuxer.Find(worker, id, nic.Id) is not { } endpoint)
            return false;
        var info = new UdpDatagramInfo(id.RemoteAddress, id.RemotePort, id.LocalAddress, id.LocalPort, nic.Id, payload.Length, worker);
        nic.Stats.Add(worker, endpoint.Enqueue(worker, payload, info) ? StatCounter.UdpDatagramsReceived : StatCounter.UdpReceiveBufferErrors);
        return true;
    }

    private TransportVerdict DeliverUnclaimed(Nic nic, int worker, in TransportEndpointId id, ReadOnlySpan<byte> payload)
    {
        var info = new UdpDatagramInfo(id.RemoteAddress, id.RemotePort, id.LocalAddress, id.LocalPort, nic.Id, payload.Length, worker);
        if (DefaultHandler is { } handler && handler(nic, info, payload))
        {
            nic.Stats.Add(worker, StatCounter.UdpDatagramsReceived);
            return TransportVerdict.Handled;
        }
        nic.Stats.Add(worker, StatCounter.UdpUnknownPortErrors);
        return TransportVerdict.PortUnreachable;
    }

    void IIcmpErrorReceiver.HandleError(Nic nic, int worker, IpAddress source, IpAddress destination, ReadOnlySpan<byte> quotedTransport, byte type, byte code, uint rest)
    {
        if (quotedTransport.Length < UdpPacket.HeaderLength)
            return;
        ushort sourcePort = (ushort)((quotedTransport[0] << 8) | quotedTransport[1]);
        ushort destinationPort = (ushort)((quotedTransport[2] << 8) | quotedTransport[3]);
        // The quoted datagram is one we sent: our side is its source.
        TransportEndpointId id = TransportEndpointId.Create(source.Protocol, source, sourcePort, destination, destinationPort);
        UdpEndpoint? endpoint = Demuxer.FindExact(worker, id) ?? Demuxer.FindExact(worker, id.WithoutRemote) ?? Demuxer.FindExact(worker, id.WithoutLocalAddress.WithoutRemote);
        if (endpoint is null)
            return;
        var info = new UdpDatagramInfo(id.RemoteAddress, destinationPort, id.LocalAddress, sourcePort, nic.Id, 0, worker, type, code);
        if (endpoint.EnqueueError(worker, info))
            nic.Stats.Add(worker, StatCounter.UdpIcmpErrorsDelivered);
    }

    /// <summary>Picks a free ephemeral port (RFC 6056 range 32768-60999), or 0 when all are taken.</summary>
    internal ushort AllocateEphemeralPort(EtherType network)
    {
        lock (_portLock)
        {
            for (int tried = 0; tried <= LastEphemeralPort - FirstEphemeralPort; tried++)
            {
                int port = _nextEphemeral;
                _nextEphemeral = port == LastEphemeralPort ? FirstEphemeralPort : port + 1;
                // A service's port too: an ephemeral endpoint there would take its datagrams.
                if (!Demuxer.IsPortUsed(network, (ushort)port) && !Volatile.Read(ref _services).UsesPort(network, (ushort)port))
                    return (ushort)port;
            }
            return 0;
        }
    }
}
