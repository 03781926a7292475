using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Udp;

/// <summary>A UDP socket of the stack: bind, connect, send, and receive in batches from one lock-free ring per worker.</summary>
/// <remarks>
/// <para>
/// Each worker copies the datagrams it receives for this endpoint into its own single-producer,
/// single-consumer ring; the application drains all rings, so datagrams of one flow (which RSS
/// keeps on one worker) stay in order. Control operations (bind, connect, dispose) take a lock;
/// the worker side takes none.
/// </para>
/// <para>
/// <see cref="WaitAsync"/> parks the application on a semaphore. A worker releases it only when
/// it sees the waiting flag, so the hot path pays one volatile read; the flag is read without a
/// fence, so a datagram that races the flag may not wake the waiter, and the wait is bounded by a
/// short timeout for that case.
/// </para>
/// </remarks>
public sealed class UdpEndpoint : IDisposable
{
    private static readonly TimeSpan s_missedWakeupBound = TimeSpan.FromMilliseconds(2);

    private readonly UdpProtocol _udp;
    private readonly UdpReceiveRing[] _rings;
    private readonly UdpReceiveRing[] _errors;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private volatile bool _waiting;
    private TransportEndpointId? _id;
    private NicId _nic;
    private bool _reusePort;
    private int _nextRing;

    internal UdpEndpoint(UdpProtocol udp, int ringCapacity, int maxDatagram)
    {
        _udp = udp;
        int workers = udp.Stack.Workers;
        _rings = new UdpReceiveRing[workers];
        _errors = new UdpReceiveRing[workers];
        for (int w = 0; w < workers; w++)
        {
            _rings[w] = new UdpReceiveRing(ringCapacity, maxDatagram);
            _errors[w] = new UdpReceiveRing(16, 0);
        }
    }

    /// <summary>The key the endpoint is registered under, or null while unbound.</summary>
    public TransportEndpointId? Id
    {
        get
        {
            lock (_lock)
                return _id;
        }
    }

    /// <summary>The NIC the endpoint is bound to, or <see cref="NicId.Any"/>.</summary>
    public NicId BoundNic => _nic;

    /// <summary>Datagrams waiting in all rings now.</summary>
    public int Available
    {
        get
        {
            int n = 0;
            foreach (UdpReceiveRing ring in _rings)
                n += ring.Count;
            return n;
        }
    }

    /// <summary>
    /// Binds to <paramref name="localAddress"/> (unspecified: all of the family) and
    /// <paramref name="port"/> (0: an ephemeral port), on <paramref name="nic"/> or all NICs; with
    /// <paramref name="reusePort"/> other endpoints asking the same may share the key.
    /// </summary>
    public StackError Bind(IpAddress localAddress, ushort port, NicId nic = default, bool reusePort = false)
    {
        lock (_lock)
        {
            if (_id is not null)
                return StackError.InvalidEndpointState;
            EtherType network = localAddress.Protocol;
            if (port == 0 && (port = _udp.AllocateEphemeralPort(network)) == 0)
                return StackError.PortInUse;
            TransportEndpointId id = TransportEndpointId.Create(network, localAddress, port, default, 0);
            StackError error = _udp.Demuxer.Register(id, nic, this, reusePort);
            if (error != StackError.None)
                return error;
            _id = id;
            _nic = nic;
            _reusePort = reusePort;
            return StackError.None;
        }
    }

    /// <summary>Sets the peer: the endpoint then only receives from it (its key becomes the full 4-tuple) and <see cref="Send"/> goes to it. Binds to an ephemeral port first if unbound.</summary>
    public StackError Connect(IpAddress remoteAddress, ushort remotePort)
    {
        lock (_lock)
        {
            if (_id is null)
            {
                IpAddress any = remoteAddress.IsIpv4 ? new IpAddress(Ipv4Address.Any) : new IpAddress(Ipv6Address.Any);
                ushort port = _udp.AllocateEphemeralPort(remoteAddress.Protocol);
                if (port == 0)
                    return StackError.PortInUse;
                _id = TransportEndpointId.Create(remoteAddress.Protocol, any, port, default, 0);
            }
            else
            {
                _udp.Demuxer.Unregister(_id.Value, _nic, this);
            }
            TransportEndpointId current = _id.Value;
            if (current.Network != remoteAddress.Protocol)
                return StackError.BadAddress;
            TransportEndpointId connected = current with { RemoteAddress = remoteAddress, RemotePort = remotePort };
            StackError error = _udp.Demuxer.Register(connected, _nic, this, _reusePort);
            if (error != StackError.None)
            {
                _udp.Demuxer.Register(current, _nic, this, _reusePort);
                return error;
            }
            _id = connected;
            return StackError.None;
        }
    }

    /// <summary>Sends one datagram to the connected peer.</summary>
    public StackError Send(ReadOnlySpan<byte> payload)
    {
        TransportEndpointId? id = Id;
        if (id is not { RemotePort: not 0 } connected)
            return StackError.NotConnected;
        return SendTo(payload, connected.RemoteAddress, connected.RemotePort);
    }

    /// <summary>Sends datagrams to the connected peer; returns how many were sent or queued for link resolution before the first failure.</summary>
    public int SendBatch(IReadOnlyList<ReadOnlyMemory<byte>> datagrams)
    {
        for (int i = 0; i < datagrams.Count; i++)
        {
            StackError error = Send(datagrams[i].Span);
            if (error is not (StackError.None or StackError.ResolutionPending))
                return i;
        }
        return datagrams.Count;
    }

    /// <summary>Sends one datagram to <paramref name="remoteAddress"/>:<paramref name="remotePort"/>, binding to an ephemeral port first if unbound.</summary>
    public StackError SendTo(ReadOnlySpan<byte> payload, IpAddress remoteAddress, ushort remotePort)
    {
        TransportEndpointId? bound = Id;
        if (bound is null)
        {
            IpAddress any = remoteAddress.IsIpv4 ? new IpAddress(Ipv4Address.Any) : new IpAddress(Ipv6Address.Any);
            StackError bindError = Bind(any, 0);
            if (bindError != StackError.None)
                return bindError;
            bound = Id;
        }
        TransportEndpointId id = bound!.Value;
        if (id.Network != remoteAddress.Protocol)
            return StackError.BadAddress;
        IpAddress local = id.LocalAddress.IsUnspecified && id.LocalAddress.IsIpv6 && id.Network == EtherType.Ipv4 ? new IpAddress(Ipv4Address.Any) : id.LocalAddress;
        StackError error = _udp.Stack.FindRoute(_nic, local, remoteAddress, out Route? route);
        if (error != StackError.None)
            return error;
        using (route)
        {
            Nic nic = route!.Nic;
            int datagramLength = UdpPacket.HeaderLength + payload.Length;
            var header = new UdpHeader(id.LocalPort, remotePort, payload.Length);
            if (remoteAddress.IsIpv4)
            {
                byte[] datagram = new byte[datagramLength];
                payload.CopyTo(datagram.AsSpan(UdpPacket.HeaderLength));
                header.EmitWithChecksum(datagram, route.LocalAddress.V4, remoteAddress.V4);
                error = route.WritePacket(IpProtocol.Udp, datagram);
            }
            else
            {
                // The UDP length and IPv6 payload length are 16 bits (no jumbograms); a datagram
                // past the MTU leaves in fragments (RFC 8200 §4.5), as from Linux.
                if (datagramLength > ushort.MaxValue)
                    return StackError.MessageTooLong;
                int start = EthernetFrame.UntaggedHeaderLength + Ipv6Packet.HeaderLength;
                byte[] frame = new byte[start + datagramLength];
                new Ipv6Header(route.LocalAddress.V6, remoteAddress.V6, IpProtocol.Udp, 64, datagramLength)
                {
                    FlowLabel = Network.Ipv6.Ipv6FlowLabel.For(route.LocalAddress.V6, remoteAddress.V6, IpProtocol.Udp, header.SourcePort, header.DestinationPort),
                }.Emit(frame.AsSpan(EthernetFrame.UntaggedHeaderLength));
                payload.CopyTo(frame.AsSpan(start + UdpPacket.HeaderLength));
                header.EmitWithChecksum(frame.AsSpan(start), route.LocalAddress.V6, remoteAddress.V6);
                IpAddress nextHop = route.NextHop.IsUnspecified ? remoteAddress : route.NextHop;
                error = nic.SendIpv6(frame, nextHop.V6);
            }
            if (error is StackError.None or StackError.ResolutionPending)
                nic.Stats.Add(NicStats.ControlWorker, StatCounter.UdpDatagramsSent);
            return error == StackError.ResolutionPending ? StackError.None : error;
        }
    }

    /// <summary>Takes the oldest datagram of the next non-empty ring into <paramref name="buffer"/> (truncating it); false when none waits.</summary>
    public bool TryReceive(Span<byte> buffer, out UdpDatagramInfo info, out int length)
    {
        int rings = _rings.Length;
        for (int i = 0; i < rings; i++)
        {
            int index = (_nextRing + i) % rings;
            if (_rings[index].TryDequeue(buffer, out info, out length))
            {
                _nextRing = (index + 1) % rings;
                return true;
            }
        }
        info = default;
        length = 0;
        return false;
    }

    /// <summary>Receives up to <paramref name="buffers"/>.Length datagrams, one per buffer, with their metadata; returns how many.</summary>
    public int ReceiveBatch(Span<byte[]> buffers, Span<UdpDatagramInfo> infos)
    {
        int count = Math.Min(buffers.Length, infos.Length);
        int received = 0;
        while (received < count && TryReceive(buffers[received], out infos[received], out _))
            received++;
        return received;
    }

    /// <summary>Takes an ICMP error about a datagram this endpoint sent (RFC 1122 §4.1.3.3); false when none waits.</summary>
    public bool TryTakeError(out UdpDatagramInfo error)
    {
        foreach (UdpReceiveRing ring in _errors)
        {
            if (ring.TryDequeue([], out error, out _))
                return true;
        }
        error = default;
        return false;
    }

    /// <summary>Completes when a datagram or an error may be waiting.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        while (!HasWork())
        {
            _waiting = true;
            if (HasWork())
                break;
            await _signal.WaitAsync(s_missedWakeupBound, cancellationToken).ConfigureAwait(false);
        }
        _waiting = false;
    }

    /// <summary>Unregisters the endpoint; datagrams already queued stay readable.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_id is { } id)
                _udp.Demuxer.Unregister(id, _nic, this);
            _id = null;
        }
    }

    internal bool Enqueue(int worker, ReadOnlySpan<byte> payload, in UdpDatagramInfo info)
    {
        if (!_rings[worker].TryEnqueue(payload, info))
            return false;
        Wake();
        return true;
    }

    internal bool EnqueueError(int worker, in UdpDatagramInfo info)
    {
        if (!_errors[worker].TryEnqueue([], info))
            return false;
        Wake();
        return true;
    }

    private void Wake()
    {
        if (_waiting)
            WakeParked();
    }

    // Only when the application is parked: the semaphore's own lock is off the hot path (a method of its own so the
    // IL scan of the worker path can name it as excluded, in the tests' WorkerPathExclusions).
    private void WakeParked()
    {
        _waiting = false;
        _signal.Release();
    }

    private bool HasWork()
    {
        for (int w = 0; w < _rings.Length; w++)
        {
            if (_rings[w].Count > 0 || _errors[w].Count > 0)
                return true;
        }
        return false;
    }
}
