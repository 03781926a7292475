using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>A stack with TCP over the in-memory link and a scripted client at 198.18.0.1: builds the client's segments and reads the stack's.</summary>
internal sealed class TcpFixture
{
    public const ushort ClientPort = 40000;

    public TcpFixture(TcpSettings? settings = null, int workers = 1)
    {
        Stack = new StackFixture(workers);
        Tcp = TcpProtocol.Install(Stack.Stack, settings);
    }

    public StackFixture Stack { get; }

    public TcpProtocol Tcp { get; }

    public ManualClock Clock => Stack.Clock;

    public long this[StatCounter counter] => Stack[counter];

    /// <summary>The client's frame carrying one segment to <paramref name="port"/>.</summary>
    public static byte[] Segment(ushort port, TcpFlags flags, uint sequence, uint acknowledgment, ReadOnlySpan<byte> payload = default,
        ushort window = 65535, ushort? mss = null, byte? windowScale = null, bool sackPermitted = false, TcpTimestamps? timestamps = null, ushort clientPort = ClientPort, TcpSackBlocks sack = default)
    {
        var header = new TcpHeader(clientPort, port, sequence, acknowledgment, flags, window)
        {
            MaxSegmentSize = mss,
            WindowScale = windowScale,
            SackPermitted = sackPermitted,
            Timestamps = timestamps,
            SackBlocks = sack,
        };
        byte[] segment = new byte[header.HeaderLength + payload.Length];
        payload.CopyTo(segment.AsSpan(header.HeaderLength));
        header.EmitWithChecksum(segment, Packets.HostIp, Packets.StackIp);
        return Packets.Ipv4(Packets.HostIp, Packets.StackIp, (byte)IpProtocol.Tcp, segment);
    }

    /// <summary>Injects a frame; returns the TCP segments the stack sent (checked: IPv4 to the client, valid checksum).</summary>
    public List<Sent> Send(byte[] frame)
    {
        Stack.Link.InjectInbound(frame);
        return Drain();
    }

    /// <summary>Advances the clock, runs the worker's timers, and returns what they sent.</summary>
    public List<Sent> Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Stack.Stack.PollTimers(0);
        return Drain();
    }

    public List<Sent> Drain()
    {
        var sent = new List<Sent>();
        foreach (byte[] frame in Stack.Link.ReadAll())
            sent.Add(Parse(frame));
        return sent;
    }

    public static Sent Parse(byte[] frame)
    {
        Assert.Equal(Packets.HostMac, MacAddress.Read(frame));
        Assert.Equal(0x0800, Packets.EtherTypeOf(frame));
        Assert.True(Ipv4Packet.TryCreate(frame.AsSpan(14), out Ipv4Packet ip, out _));
        Assert.Equal(IpProtocol.Tcp, ip.Protocol);
        Assert.Equal(Packets.StackIp, ip.Source);
        Assert.Equal(Packets.HostIp, ip.Destination);
        Assert.True(TcpPacket.TryCreate(ip.Payload, out TcpPacket packet, out _));
        Assert.True(TcpHeader.TryParse(packet, ip.Source, ip.Destination, out TcpHeader header), "checksum");
        return new Sent(header, packet.Payload.ToArray(), ip.DontFragment, ip.Ecn, ip.Identification);
    }

    /// <summary>Opens a connection to <paramref name="port"/> with the usual Linux SYN options; returns the server's ISN.</summary>
    public uint Connect(ushort port, uint clientIsn = 1000, bool timestamps = false, ushort clientPort = ClientPort)
    {
        List<Sent> synAck = Send(Segment(port, TcpFlags.Syn, clientIsn, 0, mss: 1460, windowScale: 7, sackPermitted: true,
            timestamps: timestamps ? new TcpTimestamps(100, 0) : null, clientPort: clientPort));
        Sent s = Assert.Single(synAck);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, s.Header.Flags);
        Assert.Empty(Send(Segment(port, TcpFlags.Ack, clientIsn + 1, s.Header.SequenceNumber + 1, window: 512,
            timestamps: timestamps ? new TcpTimestamps(101, s.Header.Timestamps!.Value.Value) : null, clientPort: clientPort)));
        return s.Header.SequenceNumber;
    }

    /// <summary>
    /// What the stack sent for data that asked for an immediate ACK (quick-ACK mode, a second full segment, a filled
    /// hole): first the pure ACK, as Linux sends it from its receive path before the application reads, then what the
    /// application answered. Checks the ACK and returns the rest.
    /// </summary>
    public static List<Sent> AfterAck(List<Sent> sent)
    {
        Assert.NotEmpty(sent);
        Sent ack = sent[0];
        Assert.Empty(ack.Payload);
        Assert.Equal(TcpFlags.Ack, ack.Flags & ~(TcpFlags.Ece | TcpFlags.Cwr));
        Assert.All(sent.Skip(1), s => Assert.Equal(ack.Ack, s.Ack));
        return sent.GetRange(1, sent.Count - 1);
    }

    /// <summary>SACK blocks from (left, right) pairs.</summary>
    public static TcpSackBlocks Sack(params (uint Left, uint Right)[] blocks)
    {
        var sack = default(TcpSackBlocks);
        foreach ((uint left, uint right) in blocks)
            Assert.True(sack.Add(left, right));
        return sack;
    }

    /// <summary>The client's frame with the IP header's ECN field set to <paramref name="ecn"/> (RFC 3168 §5).</summary>
    public static byte[] WithEcn(byte[] frame, byte ecn)
    {
        Span<byte> ip = frame.AsSpan(14);
        ip[1] = (byte)((ip[1] & ~3) | ecn);
        ip[10] = 0;
        ip[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..((ip[0] & 0xf) * 4)]));
        return frame;
    }

    public readonly record struct Sent(TcpHeader Header, byte[] Payload, bool DontFragment, byte Ecn = 0, ushort Identification = 0)
    {
        public TcpFlags Flags => Header.Flags;

        public uint Sequence => Header.SequenceNumber;

        public uint Ack => Header.AcknowledgmentNumber;
    }
}
