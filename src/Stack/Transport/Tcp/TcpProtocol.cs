using XdpStack.Stack.Link;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>TCP (RFC 9293) for a stack: checks received segments, hands them to the connection that owns their flow on the receiving worker, opens connections for listeners, and answers the rest with RST.</summary>
/// <remarks>
/// <para>Connections live in per-worker tables (<see cref="TcpWorker"/>): a flow's segments all arrive on one
/// worker (RSS hashes the 4-tuple to one queue), which owns the connection, runs its timers from
/// <see cref="PollTimers"/> and sends its segments; so the receive and send paths take no lock and allocate
/// nothing. Listeners are published copy-on-write like the UDP services.</para>
/// <para>A segment no connection and no listener takes gets a RST built per RFC 9293 §3.10.7.1, as Linux
/// sends it (<c>tcp_v4_send_reset</c>): <c>&lt;SEQ=SEG.ACK&gt;&lt;CTL=RST&gt;</c> when it carried an ACK, else
/// <c>&lt;SEQ=0&gt;&lt;ACK=SEG.SEQ+SEG.LEN&gt;&lt;CTL=RST,ACK&gt;</c>; never one for a RST.</para>
/// </remarks>
public sealed partial class TcpProtocol : IIpv6TransportProtocol, IWorkerTimers
{
    private readonly Lock _lock = new();
    private readonly TcpWorker[] _workers;
    private readonly byte[][] _resetFrames;

    // Control threads only, under _lock.
    private readonly Dictionary<TcpService, TcpListener> _services = [];

    // Written under _lock with Volatile.Write; workers read it for segments no connection takes.
    private TcpListenerTable _listeners = TcpListenerTable.Empty;

    private TcpProtocol(NetworkStack stack, TcpSettings settings)
    {
        Stack = stack;
        Settings = settings;
        var isn = new TcpIsnGenerator();
        _workers = new TcpWorker[stack.Workers];
        _resetFrames = new byte[stack.Workers][];
        _commands = new TcpCommandQueue[stack.Workers];
        _socketApplication = new TcpSocketApplication(this, listener: null);
        for (int w = 0; w < stack.Workers; w++)
        {
            _commands[w] = new TcpCommandQueue(CommandQueueCapacity);
            _workers[w] = new TcpWorker(w, settings, isn, stack.Clock, stack.Workers);
            _resetFrames[w] = new byte[EthernetFrame.UntaggedHeaderLength + Ipv6Packet.HeaderLength + TcpPacket.MinHeaderLength];
        }
    }

    public IpProtocol Protocol => IpProtocol.Tcp;

    public NetworkStack Stack { get; }

    public TcpSettings Settings { get; }

    /// <summary>The listeners registered now, in the order added.</summary>
    public IReadOnlyList<TcpListener> Listeners => Volatile.Read(ref _listeners).Listeners;

    /// <summary>Creates TCP for <paramref name="stack"/> and registers it with its transport table.</summary>
    public static TcpProtocol Install(NetworkStack stack, TcpSettings? settings = null)
    {
        var tcp = new TcpProtocol(stack, settings ?? new TcpSettings());
        stack.Transports.Register(tcp);
        return tcp;
    }

    /// <summary>
    /// Listens on <paramref name="port"/> of <paramref name="localAddress"/> (null: every address of both families; an
    /// unspecified address: every address of its family); connections run <paramref name="application"/>. Workers
    /// answer SYNs with it once this returns. <see cref="StackError.PortInUse"/> when another listener would take some
    /// of the same SYNs, <see cref="StackError.BadAddress"/> for port 0 or a multicast address.
    /// </summary>
    /// <remarks><paramref name="backlog"/>, <paramref name="synCookies"/>, <paramref name="keepAlive"/> and <paramref name="congestionControl"/> default to <see cref="Settings"/>.</remarks>
    public StackError Listen(ushort port, IpAddress? localAddress, ITcpApplication application, out TcpListener? listener,
        int? backlog = null, TcpSynCookieMode? synCookies = null, TcpKeepAlive? keepAlive = null, TcpCongestionControl? congestionControl = null)
    {
        listener = null;
        if (port == 0 || localAddress is { IsMulticast: true })
            return StackError.BadAddress;
        var candidate = new TcpListener(port, localAddress, application, Math.Max(1, backlog ?? Settings.Backlog), synCookies ?? Settings.SynCookies, keepAlive ?? Settings.KeepAlive, Stack.Workers,
            congestionControl ?? Settings.CongestionControl);
        lock (_lock)
        {
            TcpListenerTable current = _listeners;
            if (current.Listeners.Any(l => l.Overlaps(candidate)))
                return StackError.PortInUse;
            Volatile.Write(ref _listeners, new TcpListenerTable([.. current.Listeners, candidate]));
        }
        listener = candidate;
        return StackError.None;
    }

    /// <summary>Stops <paramref name="listener"/>: new SYNs get RST once this returns. Its established connections run on until they close.</summary>
    public bool StopListening(TcpListener listener)
    {
        lock (_lock)
        {
            TcpListener[] current = _listeners.Listeners;
            if (Array.IndexOf(current, listener) < 0)
                return false;
            Volatile.Write(ref _listeners, new TcpListenerTable([.. current.Where(l => l != listener)]));
            return true;
        }
    }

    /// <summary>Runs a responder service: listens on its port and address with its application. Errors as <see cref="Listen"/>.</summary>
    public StackError AddService(TcpService service)
    {
        lock (_lock)
        {
            if (_services.ContainsKey(service))
                return StackError.PortInUse;
            StackError result = Listen(service.Port, service.LocalAddress, service.CreateApplication(_workers.Length), out TcpListener? listener, service.Backlog, service.SynCookies, service.KeepAlive, service.CongestionControl);
            if (result == StackError.None)
                _services[service] = listener!;
            return result;
        }
    }

    /// <summary>Stops the service registered with exactly these values; false if there is none. Its connections run on until they close.</summary>
    public bool RemoveService(TcpService service)
    {
        lock (_lock)
        {
            if (!_services.Remove(service, out TcpListener? listener))
                return false;
            return StopListening(listener);
        }
    }

    /// <summary>The services running now.</summary>
    public IReadOnlyList<TcpService> Services
    {
        get
        {
            lock (_lock)
                return [.. _services.Keys];
        }
    }

    /// <summary>For tests and diagnostics, on worker <paramref name="worker"/>'s thread (or when it is stopped): its connections.</summary>
    public IReadOnlyCollection<TcpConnection> ConnectionsOf(int worker) => [.. _workers[worker].Connections];

    /// <inheritdoc/>
    public void PollTimers(int worker)
    {
        DrainCommands(worker);
        _workers[worker].PollTimers();
    }

    /// <inheritdoc/>
    public long MicrosecondsUntilNextTimer(int worker, long horizonUs)
    {
        TcpWorker w = _workers[worker];
        return w.Timers.MicrosecondsUntilNext(w.NowMicroseconds(), horizonUs);
    }

    public TransportVerdict HandlePacket(scoped ref Ipv4Delivery delivery)
    {
        Nic nic = delivery.Nic;
        int worker = delivery.Worker;
        Ipv4Address source = delivery.Source;
        Ipv4Address destination = delivery.Destination;
        if (!TcpPacket.TryCreate(delivery.Payload, out TcpPacket packet, out _))
        {
            nic.Stats.Add(worker, StatCounter.TcpMalformedReceived);
            return TransportVerdict.Malformed;
        }
        if ((nic.Link.Capabilities & LinkCapabilities.RxChecksumOffload) == 0 && !packet.VerifyChecksum(source, destination))
        {
            nic.Stats.Add(worker, StatCounter.TcpChecksumErrors);
            return TransportVerdict.Malformed;
        }
        // RFC 1122 §4.2.3.10: no connection with a broadcast or multicast address.
        if (source.IsBroadcast || source.IsMulticast || destination.IsBroadcast || destination.IsMulticast
            || delivery.Addresses.Ipv4SubnetBroadcasts.Contains(destination)
            || !TryReadSegment(packet, delivery.Ip.Ecn, out TcpSegment segment))
        {
            nic.Stats.Add(worker, StatCounter.TcpMalformedReceived);
            return TransportVerdict.Malformed;
        }
        var key = new TcpFlowKey(destination, source, packet.DestinationPort, packet.SourcePort);
        if (!Receive(nic, worker, false, key, ref segment, delivery.LinkSource))
            return TransportVerdict.Handled;
        // No connection, no listener: the control plane's (BGP on 179, the kernel's own connections), if there is one.
        if (nic.PuntHandler is { } punt)
        {
            punt.Punt(nic, worker, delivery.Frame);
            return TransportVerdict.Handled;
        }
        // No connection, no listener: RST in place of the segment.
        Span<byte> frame = delivery.Frame;
        int length = BuildReset(frame, nic.Link.LinkAddress, packet, new TcpFlowKey(destination, source, packet.DestinationPort, packet.SourcePort), false);
        if (length > 0 && delivery.SendInPlace(length))
            CountReset(nic, worker, false);
        return TransportVerdict.Handled;
    }

    public TransportVerdict HandlePacket(scoped ref Ipv6Delivery delivery)
    {
        Nic nic = delivery.Nic;
        int worker = delivery.Worker;
        Ipv6Address source = delivery.Source;
        Ipv6Address destination = delivery.Destination;
        if (!TcpPacket.TryCreate(delivery.Payload, out TcpPacket packet, out _))
        {
            nic.Stats.Add(worker, StatCounter.TcpMalformedReceived);
            return TransportVerdict.Malformed;
        }
        if ((nic.Link.Capabilities & LinkCapabilities.RxChecksumOffload) == 0 && !packet.VerifyChecksum(source, destination))
        {
            nic.Stats.Add(worker, StatCounter.TcpChecksumErrors);
            return TransportVerdict.Malformed;
        }
        if (!source.IsUnicast || !destination.IsUnicast || !TryReadSegment(packet, (byte)(delivery.Ip.TrafficClass & 3), out TcpSegment segment))
        {
            nic.Stats.Add(worker, StatCounter.TcpMalformedReceived);
            return TransportVerdict.Malformed;
        }
        var key = new TcpFlowKey(destination, source, packet.DestinationPort, packet.SourcePort);
        if (!Receive(nic, worker, true, key, ref segment, delivery.LinkSource))
            return TransportVerdict.Handled;
        if (nic.PuntHandler is { } punt)
        {
            punt.Punt(nic, worker, delivery.Frame);
            return TransportVerdict.Handled;
        }
        // The in-place reply has a bare IPv6 header; build it in the worker's own frame instead when extension headers sat in front.
        Span<byte> frame = delivery.UpperLayerOffset == Ipv6Packet.HeaderLength ? delivery.Frame : _resetFrames[worker];
        if (frame != delivery.Frame)
            delivery.Frame[..EthernetFrame.UntaggedHeaderLength].CopyTo(frame);
        int length = BuildReset(frame, nic.Link.LinkAddress, packet, key, true);
        if (length <= 0)
            return TransportVerdict.Handled;
        bool sent = frame == delivery.Frame ? delivery.SendInPlace(length) : nic.WriteFrame(worker, frame[..length]);
        if (sent)
            CountReset(nic, worker, true);
        return TransportVerdict.Handled;
    }

    private static void CountReset(Nic nic, int worker, bool ipv6)
    {
        nic.Stats.Add(worker, StatCounter.TcpResetsSent);
        nic.Stats.Add(worker, StatCounter.TcpSegmentsSent);
        nic.Stats.Add(worker, ipv6 ? StatCounter.Ipv6PacketsSent : StatCounter.Ipv4PacketsSent);
    }

    // The header's fields and options; false for a malformed option or a flag combination no TCP sends.
    private static bool TryReadSegment(TcpPacket packet, byte ecn, out TcpSegment segment)
    {
        segment = new TcpSegment
        {
            Ecn = ecn,
            Sequence = packet.SequenceNumber,
            Acknowledgment = packet.AcknowledgmentNumber,
            Flags = packet.Flags,
            Window = packet.WindowSize,
            Payload = packet.Payload,
        };
        return segment.ReadOptions(packet.Options) && IsSaneFlagSet(segment.Flags);
    }

    // The common part of both families. True when nothing took the segment and it should be answered with RST.
    private bool Receive(Nic nic, int worker, bool ipv6, in TcpFlowKey key, ref TcpSegment segment, MacAddress linkSource)
    {
        nic.Stats.Add(worker, StatCounter.TcpSegmentsReceived);
        TcpWorker tables = _workers[worker];
        long now = tables.NowMicroseconds();
        tables.TimeWaitIsn = 0;
        if (tables.Find(key) is { } connection)
        {
            if (connection.State == TcpState.SynSent)
            {
                connection.ReceiveInSynSent(ref segment, now, linkSource);
                return false;
            }
            if (connection.Receive(ref segment, now))
                return false;
            // A SYN ended a TIME_WAIT: it opens a new connection below.
        }
        TcpListener? listener = Volatile.Read(ref _listeners).Find(ipv6, key.LocalAddress, key.LocalPort);
        if (listener is null)
        {
            nic.Stats.Add(worker, StatCounter.TcpNoPort);
            return !segment.Has(TcpFlags.Rst);
        }
        // RFC 9293 §3.10.7.2, LISTEN: a RST is ignored, an ACK gets a RST (unless it completes a cookie handshake), a SYN opens.
        if (segment.Has(TcpFlags.Rst))
            return false;
        if (segment.Has(TcpFlags.Ack))
        {
            if (!listener.MayHoldCookie(worker, now) || segment.Has(TcpFlags.Syn))
                return true;
            if (tables.AtConnectionLimit)
            {
                // No room for the connection the cookie would open: dropped as the SYN would have been (the peer's
                // retransmission may find room).
                nic.Stats.Add(worker, StatCounter.TcpListenDrops);
                return false;
            }
            return !TryOpenFromCookie(nic, worker, ipv6, key, ref segment, linkSource, listener, now);
        }
        if (!segment.Has(TcpFlags.Syn))
            return false;
        if (tables.AtConnectionLimit)
        {
            nic.Stats.Add(worker, StatCounter.TcpListenDrops);
            return false;
        }
        ref int halfOpen = ref listener.HalfOpen(worker);
        bool full = halfOpen >= listener.Backlog;
        if (listener.SynCookies == TcpSynCookieMode.Always || (full && listener.SynCookies == TcpSynCookieMode.OnOverflow))
        {
            tables.SendCookieSynAck(nic, ipv6, key, linkSource, ref segment, now);
            listener.NoteCookieSent(worker, now);
            nic.Stats.Add(worker, StatCounter.TcpSynCookiesSent);
            return false;
        }
        if (full)
        {
            nic.Stats.Add(worker, StatCounter.TcpListenDrops);
            return false;
        }
        halfOpen++;
        TcpConnection opened = tables.Add(key, listener, listener.Application, nic, ipv6, linkSource);
        opened.AcceptSyn(ref segment, now);
        nic.Stats.Add(worker, StatCounter.TcpPassiveOpens);
        return false;
    }

    // The ACK of a handshake answered with a cookie (Linux cookie_v4_check): a valid cookie opens the connection
    // straight into ESTABLISHED, and the segment is then processed as any other (it may carry data). False when the
    // cookie is forged or expired: the caller answers with RST, as Linux does.
    private bool TryOpenFromCookie(Nic nic, int worker, bool ipv6, in TcpFlowKey key, ref TcpSegment segment, MacAddress linkSource, TcpListener listener, long now)
    {
        TcpWorker tables = _workers[worker];
        int index = TcpSynCookie.Decode(tables.Isn, key, ipv6, segment.Sequence - 1, segment.Acknowledgment - 1, TcpSynCookie.Counter(now));
        if (index < 0)
        {
            nic.Stats.Add(worker, StatCounter.TcpSynCookiesFailed);
            return false;
        }
        int peerWindowScale = -1;
        bool sackPermitted = false;
        bool ecn = false;
        if (segment.HasTimestamps)
            TcpSynCookie.DecodeTimestamp(segment.TsEcho, out peerWindowScale, out sackPermitted, out ecn);
        nic.Stats.Add(worker, StatCounter.TcpSynCookiesValidated);
        nic.Stats.Add(worker, StatCounter.TcpPassiveOpens);
        TcpConnection opened = tables.Add(key, listener, listener.Application, nic, ipv6, linkSource);
        opened.AcceptCookie(ref segment, TcpSynCookie.MssOf(ipv6, index), peerWindowScale, sackPermitted, ecn, now);
        if (opened.State != TcpState.Closed)
            opened.Receive(ref segment, now);
        return true;
    }

    // SYN with RST or FIN is something no TCP sends (Linux drops SYN+RST, SYN+FIN in tcp_rcv_state_process).
    private static bool IsSaneFlagSet(TcpFlags flags) =>
        (flags & TcpFlags.Syn) == 0 || (flags & (TcpFlags.Rst | TcpFlags.Fin)) == 0;

    // Rewrites the frame into the RST for a segment nothing took; returns the frame length, 0 for none.
    private static int BuildReset(Span<byte> frame, MacAddress ours, TcpPacket packet, in TcpFlowKey key, bool ipv6)
    {
        TcpFlags flags = packet.Flags;
        if ((flags & TcpFlags.Rst) != 0)
            return 0;
        uint sequence, acknowledgment;
        TcpFlags reply;
        if ((flags & TcpFlags.Ack) != 0)
        {
            sequence = packet.AcknowledgmentNumber;
            acknowledgment = 0;
            reply = TcpFlags.Rst;
        }
        else
        {
            uint length = (uint)packet.Payload.Length + ((flags & TcpFlags.Syn) != 0 ? 1u : 0u) + ((flags & TcpFlags.Fin) != 0 ? 1u : 0u);
            sequence = 0;
            acknowledgment = packet.SequenceNumber + length;
            reply = TcpFlags.Rst | TcpFlags.Ack;
        }
        var header = new TcpHeader(key.LocalPort, key.RemotePort, sequence, acknowledgment, reply, 0);
        // The reply goes to the MAC the segment came from, as ICMP and UDP echo replies do.
        MacAddress.Read(frame[MacAddress.Length..]).CopyTo(frame);
        ours.CopyTo(frame[MacAddress.Length..]);
        int ipLength = ipv6 ? Ipv6Packet.HeaderLength : Ipv4Packet.MinHeaderLength;
        Span<byte> ip = frame[EthernetFrame.UntaggedHeaderLength..];
        Span<byte> segment = ip.Slice(ipLength, TcpPacket.MinHeaderLength);
        if (ipv6)
        {
            new Ipv6Header(key.LocalAddress.V6, key.RemoteAddress.V6, IpProtocol.Tcp, Network.Ipv6.Ipv6Endpoint.DefaultHopLimit, TcpPacket.MinHeaderLength)
            {
                FlowLabel = Network.Ipv6.Ipv6FlowLabel.For(key.LocalAddress.V6, key.RemoteAddress.V6, IpProtocol.Tcp, key.LocalPort, key.RemotePort),
            }.Emit(ip);
            header.EmitWithChecksum(segment, key.LocalAddress.V6, key.RemoteAddress.V6);
        }
        else
        {
            // Linux sends the RST for no socket with DF set and identification 0 (ip_send_unicast_reply).
            new Ipv4Header(key.LocalAddress.V4, key.RemoteAddress.V4, IpProtocol.Tcp, Network.Ipv4.Ipv4Endpoint.DefaultTtl, TcpPacket.MinHeaderLength)
            {
                DontFragment = true,
            }.Emit(ip);
            header.EmitWithChecksum(segment, key.LocalAddress.V4, key.RemoteAddress.V4);
        }
        return EthernetFrame.UntaggedHeaderLength + ipLength + TcpPacket.MinHeaderLength;
    }
}
