using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>One worker's TCP: its connection table, its pools of connections and buffers, its timers, and the frame it builds segments in.</summary>
/// <remarks>
/// Touched only by worker <see cref="Index"/>, so nothing here locks. The table is a dictionary sized up front
/// and looked up with a struct key, so the established path allocates nothing; a new connection takes an
/// object and, once established, two buffers from the pools, allocating only while the pools are still
/// growing to the worker's peak. Timers are deadlines on the connections, filed in a timing wheel
/// (<see cref="TcpTimerWheel"/>): a poll within the same millisecond is one comparison, and a later one visits only
/// the connections filed in the milliseconds that passed.
/// </remarks>
internal sealed class TcpWorker
{
    private readonly Dictionary<TcpFlowKey, TcpConnection> _connections = new(1024);
    private readonly Stack<TcpConnection> _freeConnections = new();
    private readonly Stack<TcpByteRing> _freeReceive = new();
    private readonly Stack<TcpByteRing> _freeSend = new();
    private readonly IClock _clock;
    private readonly byte[] _frame = new byte[EthernetFrame.UntaggedHeaderLength + 65535];
    private int _timeWait;
    private ulong _random;

    /// <summary>
    /// The ISN for the connection a SYN opens from TIME_WAIT, set by the TIME_WAIT connection as it gives way, taken
    /// (and cleared) by the listener's handshake: the old SND.NXT + 65537, as Linux's tcp_timewait_state_process, so
    /// the new incarnation's sequence numbers start above anything the old one sent. 0: none.
    /// </summary>
    public uint TimeWaitIsn;

    public TcpWorker(int index, TcpSettings settings, TcpIsnGenerator isn, IClock clock, int workers = 1)
    {
        Index = index;
        Settings = settings;
        ConnectionLimit = settings.ConnectionLimit(workers);
        Isn = isn;
        _clock = clock;
        _random = (ulong)System.Random.Shared.NextInt64() | 1;
        Timers = new TcpTimerWheel(NowMicroseconds());
    }

    /// <summary>The worker's timers.</summary>
    public TcpTimerWheel Timers { get; }

    /// <summary>The most connections outside TIME_WAIT this worker keeps (<see cref="TcpSettings.MaxConnections"/>).</summary>
    public int ConnectionLimit { get; }

    /// <summary>True when a new connection would pass <see cref="ConnectionLimit"/>.</summary>
    public bool AtConnectionLimit => _connections.Count - _timeWait >= ConnectionLimit;

    public int Index { get; }

    public TcpSettings Settings { get; }

    public TcpIsnGenerator Isn { get; }

    /// <summary>Connections in the table, TIME_WAIT included.</summary>
    public int Count => _connections.Count;

    /// <summary>Connections in TIME_WAIT.</summary>
    public int TimeWaitCount => _timeWait;

    /// <summary>A scratch buffer for applications (an HTTP request head, at most 32 KiB as nginx's default large_client_header_buffers allow); 32 KiB.</summary>
    public Span<byte> Scratch => _scratch;

    private readonly byte[] _scratch = new byte[32 * 1024];

    public long NowMicroseconds() => _clock.Now.Ticks / 10;

    // xorshift64: IP identifications need no more.
    public uint Random()
    {
        ulong x = _random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        _random = x;
        return (uint)x;
    }

    public TcpConnection? Find(in TcpFlowKey key) => _connections.GetValueOrDefault(key);

    public IEnumerable<TcpConnection> Connections => _connections.Values;

    /// <summary>A fresh connection in the table; it enters the timer wheel with its first deadline.</summary>
    public TcpConnection Add(in TcpFlowKey key, TcpListener? listener, ITcpApplication? application, Nic nic, bool ipv6, MacAddress peerMac)
    {
        TcpConnection connection = _freeConnections.Count > 0 ? _freeConnections.Pop() : new TcpConnection();
        connection.Initialize(this, listener, application, nic, key, ipv6, peerMac);
        _connections[key] = connection;
        return connection;
    }

    public void Remove(TcpConnection connection)
    {
        if (!_connections.Remove(connection.Key))
            return;
        Timers.Cancel(connection);
        _freeConnections.Push(connection);
    }

    public TcpByteRing RentReceiveRing()
    {
        if (_freeReceive.Count > 0)
        {
            TcpByteRing ring = _freeReceive.Pop();
            ring.Reset();
            return ring;
        }
        return new TcpByteRing(Settings.ReceiveBufferSize);
    }

    public TcpByteRing RentSendRing()
    {
        if (_freeSend.Count > 0)
        {
            TcpByteRing ring = _freeSend.Pop();
            ring.Reset();
            return ring;
        }
        return new TcpByteRing(Settings.SendBufferSize);
    }

    public void ReturnReceiveRing(TcpByteRing ring) => _freeReceive.Push(ring);

    public void ReturnSendRing(TcpByteRing ring) => _freeSend.Push(ring);

    public bool TryEnterTimeWait()
    {
        if (_timeWait >= Settings.MaxTimeWait)
            return false;
        _timeWait++;
        return true;
    }

    public void LeaveTimeWait() => _timeWait--;

    /// <summary>Runs the due timers; one comparison when the clock has not passed a millisecond since the last poll.</summary>
    public void PollTimers() => Timers.Poll(NowMicroseconds());

    /// <summary>Builds a segment of <paramref name="connection"/> with <paramref name="header"/> and <paramref name="length"/> octets of <paramref name="data"/> from <paramref name="dataOffset"/>, and sends it; <paramref name="ecn"/> goes in the IP header's ECN field (RFC 3168 §5).</summary>
    public void SendSegment(TcpConnection connection, in TcpHeader header, TcpByteRing? data, int dataOffset, int length, byte ecn = 0)
    {
        if (!connection.PeerMac.IsZero)
        {
            // A SYN-ACK leaves with Identification 0, as Linux's ip_build_and_send_pkt sends it with DF; the
            // connection's own numbering starts with its first segment after that.
            bool synAck = (header.Flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack);
            ushort ipId = synAck ? (ushort)0 : connection.NextIpId();
            SendSegment(connection.Nic, connection.IsIpv6, connection.Key, connection.PeerMac, ipId, header, data, dataOffset, length, ecn);
            return;
        }
        // An active open before the peer answered: the next hop may still be resolving. The frame waits in the
        // neighbour cache (which sends it once ARP or NDP answers); the SYN-ACK then gives the MAC.
        Nic nic = connection.Nic;
        Span<byte> frame = Build(nic, connection.IsIpv6, connection.Key, default, connection.NextIpId(), header, data, dataOffset, length, ecn);
        IpAddress nextHop = connection.NextHop;
        bool resolved = connection.IsIpv6
            ? nic.Ipv6Neighbors.Resolve(nextHop.V6, frame, tag: 0, out MacAddress mac)
            : nic.Neighbors.Resolve(nextHop.V4, frame, tag: 0, out mac);
        if (!resolved)
        {
            nic.Stats.Add(Index, StatCounter.TcpSegmentsSent);
            return;
        }
        connection.LearnPeerMac(mac);
        mac.CopyTo(frame);
        Send(nic, connection.IsIpv6, frame);
    }

    /// <summary>
    /// Answers a SYN with a SYN cookie (<see cref="TcpSynCookie"/>) and keeps nothing: the SYN-ACK a half-open
    /// connection would send, with the cookie as ISN, the MSS rounded down to the cookie's table, and, with timestamps,
    /// the peer's window scale, SACK-permitted and ECN in our TSval (without timestamps none is offered, as in Linux).
    /// </summary>
    public void SendCookieSynAck(Nic nic, bool ipv6, in TcpFlowKey key, MacAddress peerMac, ref TcpSegment syn, long nowUs)
    {
        int ourMss = TcpConnection.OurMss(nic, ipv6);
        int peerMss = syn.MaxSegmentSize != 0 ? syn.MaxSegmentSize : TcpConnection.DefaultMss(ipv6);
        int index = TcpSynCookie.MssIndex(ipv6, Math.Min(peerMss, ourMss));
        uint cookie = TcpSynCookie.Encode(Isn, key, syn.Sequence, TcpSynCookie.Counter(nowUs), index);
        int receiveBuffer = Settings.ReceiveBufferSize;
        ushort advertisedMss = (ushort)Math.Max(64, ourMss);
        var header = new TcpHeader(key.LocalPort, key.RemotePort, cookie, syn.Sequence + 1, TcpFlags.Syn | TcpFlags.Ack,
            (ushort)TcpConnection.SynWindow(receiveBuffer, advertisedMss, syn.HasTimestamps))
        {
            MaxSegmentSize = advertisedMss,
        };
        if (syn.HasTimestamps)
        {
            uint now = TcpConnection.TimestampClock(nowUs) + Isn.TimestampOffset(key);
            bool ecn = TcpConnection.SynRequestsEcn(ref syn);
            header = header with
            {
                Flags = ecn ? header.Flags | TcpFlags.Ece : header.Flags,
                Timestamps = new TcpTimestamps(TcpSynCookie.EncodeTimestamp(now, syn.WindowScale, syn.SackPermitted, ecn), syn.TsValue),
                WindowScale = syn.WindowScale >= 0 ? (byte)TcpConnection.ShiftFor(receiveBuffer) : null,
                SackPermitted = syn.SackPermitted,
            };
        }
        SendSegment(nic, ipv6, key, peerMac, 0, header, null, 0, 0);
    }

    private void SendSegment(Nic nic, bool ipv6, in TcpFlowKey key, MacAddress peerMac, ushort ipId, in TcpHeader header, TcpByteRing? data, int dataOffset, int length, byte ecn = 0) =>
        Send(nic, ipv6, Build(nic, ipv6, key, peerMac, ipId, header, data, dataOffset, length, ecn));

    // The segment as a whole frame in the worker's buffer.
    private Span<byte> Build(Nic nic, bool ipv6, in TcpFlowKey key, MacAddress peerMac, ushort ipId, in TcpHeader header, TcpByteRing? data, int dataOffset, int length, byte ecn)
    {
        Span<byte> frame = _frame;
        int ipLength = ipv6 ? Ipv6Packet.HeaderLength : Ipv4Packet.MinHeaderLength;
        int tcpStart = EthernetFrame.UntaggedHeaderLength + ipLength;
        int tcpLength = header.HeaderLength + length;
        if (length > 0)
            data!.CopyTo(dataOffset, frame.Slice(tcpStart + header.HeaderLength, length));
        new EthernetHeader(peerMac, nic.Link.LinkAddress, ipv6 ? EtherType.Ipv6 : EtherType.Ipv4).Emit(frame);
        Span<byte> segment = frame.Slice(tcpStart, tcpLength);
        if (ipv6)
        {
            Ipv6Address source = key.LocalAddress.V6;
            Ipv6Address destination = key.RemoteAddress.V6;
            new Ipv6Header(source, destination, IpProtocol.Tcp, Network.Ipv6.Ipv6Endpoint.DefaultHopLimit, tcpLength)
            {
                TrafficClass = ecn,
                FlowLabel = Network.Ipv6.Ipv6FlowLabel.For(source, destination, IpProtocol.Tcp, key.LocalPort, key.RemotePort),
            }.Emit(frame[EthernetFrame.UntaggedHeaderLength..]);
            header.EmitWithChecksum(segment, source, destination);
        }
        else
        {
            Ipv4Address source = key.LocalAddress.V4;
            Ipv4Address destination = key.RemoteAddress.V4;
            // Linux sets DF (path MTU discovery) and numbers a connection's datagrams from a random start.
            new Ipv4Header(source, destination, IpProtocol.Tcp, Network.Ipv4.Ipv4Endpoint.DefaultTtl, tcpLength)
            {
                DontFragment = true,
                Identification = ipId,
                TypeOfService = ecn,
            }.Emit(frame[EthernetFrame.UntaggedHeaderLength..]);
            header.EmitWithChecksum(segment, source, destination);
        }
        return frame[..(tcpStart + tcpLength)];
    }

    /// <summary>Sends a bare RST (or RST-ACK) for a connection, with the given numbers.</summary>
    public void SendReset(TcpConnection connection, uint sequence, uint acknowledgment, TcpFlags flags)
    {
        var header = new TcpHeader(connection.LocalPort, connection.RemotePort, sequence, acknowledgment, flags, 0);
        SendSegment(connection, header, null, 0, 0);
        connection.Nic.Stats.Add(Index, StatCounter.TcpResetsSent);
    }

    private void Send(Nic nic, bool ipv6, ReadOnlySpan<byte> frame)
    {
        if (!nic.WriteFrame(Index, frame))
        {
            nic.Stats.Add(Index, StatCounter.TcpSendErrors);
            return;
        }
        nic.Stats.Add(Index, ipv6 ? StatCounter.Ipv6PacketsSent : StatCounter.Ipv4PacketsSent);
        nic.Stats.Add(Index, StatCounter.TcpSegmentsSent);
    }
}
