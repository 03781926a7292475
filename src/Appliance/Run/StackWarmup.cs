using System.Buffers.Binary;
using System.Diagnostics;
using XdpStack.Stack;
using XdpStack.Stack.Link;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Run;

/// <summary>What <see cref="StackWarmup.Run"/> got back: one count per kind of answer, and how long it took.</summary>
internal readonly record struct WarmupResult(int ArpReplies, int EchoReplies, int UdpEchoes, int HttpResponses, int TcpEchoes, TimeSpan Took);

/// <summary>
/// Runs the stack's answering paths (ARP, ping, UDP echo, a TCP handshake, an HTTP request, TCP echo and the closes)
/// on a private stack over an in-memory link before traffic comes, so that the JIT has compiled them: otherwise the
/// first ping or SYN after the start is answered 10 to 20 ms late while its methods compile (seen against Linux in
/// tools/linux-diff). Nothing reaches a real interface; the stack is dropped afterwards.
/// </summary>
internal static class StackWarmup
{
    private static readonly MacAddress StackMac = MacAddress.Parse("02:00:00:00:ff:02");
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:ff:01");
    private static readonly Ipv4Address StackIp = Ipv4Address.Parse("198.18.255.2");
    private static readonly Ipv4Address PeerIp = Ipv4Address.Parse("198.18.255.1");

    public static WarmupResult Run(int rounds = 40)
    {
        var clock = Stopwatch.StartNew();
        var stack = new NetworkStack(new StackOptions { Workers = 1 });
        UdpProtocol udp = UdpProtocol.Install(stack);
        TcpProtocol tcp = TcpProtocol.Install(stack);
        var link = new ChannelEndpoint(StackMac, workers: 1);
        var nic = new NicId(1);
        Must(stack.CreateNic(nic, link, "warmup"));
        Must(stack.AddAddress(nic, StackIp, 24));
        Must(udp.AddService(UdpServiceKind.Echo, 7));
        Must(tcp.AddService(new TcpService(TcpServiceKind.Http, 80)));
        Must(tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        link.Clear();

        int arp = 0, echo = 0, udpEchoes = 0, http = 0, tcpEchoes = 0;
        for (int round = 0; round < rounds; round++)
        {
            link.InjectInbound(ArpRequest());
            arp += link.ReadAll().Count(f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0806);
            link.InjectInbound(Ipv4(1, Icmp(round)));
            echo += link.ReadAll().Count(f => f.Length > 34 && f[23] == 1 && f[34] == 0);
            link.InjectInbound(Ipv4(17, Udp((ushort)(30000 + round), 7, "warm"u8)));
            udpEchoes += link.ReadAll().Count(f => f.Length > 34 && f[23] == 17);
            http += Exchange(link, (ushort)(40000 + round), 80, "GET / HTTP/1.1\r\nHost: warmup\r\nConnection: close\r\n\r\n"u8, "HTTP/1.1 "u8);
            tcpEchoes += Exchange(link, (ushort)(50000 + round), 7, "warm"u8, "warm"u8);
            stack.PollTimers(0);
        }
        return new WarmupResult(arp, echo, udpEchoes, http, tcpEchoes, clock.Elapsed);
    }

    // A connection from the peer: handshake, one request, its answer, then both FINs. 1 when the answer began with expected.
    private static int Exchange(ChannelEndpoint link, ushort port, ushort service, ReadOnlySpan<byte> request, ReadOnlySpan<byte> expected)
    {
        const uint isn = 1000;
        link.InjectInbound(Ipv4(6, Tcp(port, service, isn, 0, TcpFlags.Syn, default, syn: true)));
        byte[]? synAck = link.ReadAll().Find(f => f.Length >= 54 && f[23] == 6 && (f[47] & 0x12) == 0x12);
        if (synAck is null)
            return 0;
        uint server = BinaryPrimitives.ReadUInt32BigEndian(synAck.AsSpan(38)) + 1;
        link.InjectInbound(Ipv4(6, Tcp(port, service, isn + 1, server, TcpFlags.Ack, default)));
        link.InjectInbound(Ipv4(6, Tcp(port, service, isn + 1, server, TcpFlags.Ack | TcpFlags.Psh, request)));
        List<byte[]> sent = link.ReadAll();
        int answered = 0;
        uint serverNext = server;
        foreach (byte[] f in sent)
        {
            int payload = 34 + ((f[46] >> 4) * 4);
            if (f.Length <= payload)
                continue;
            if (f.AsSpan(payload).StartsWith(expected))
                answered = 1;
            serverNext = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(38)) + (uint)(f.Length - payload) + ((f[47] & 0x01) != 0 ? 1u : 0u);
        }
        uint clientNext = isn + 1 + (uint)request.Length;
        link.InjectInbound(Ipv4(6, Tcp(port, service, clientNext, serverNext, TcpFlags.Ack | TcpFlags.Fin, default)));
        foreach (byte[] f in link.ReadAll())
        {
            if ((f[47] & 0x01) != 0)
                serverNext = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(38)) + 1;
        }
        link.InjectInbound(Ipv4(6, Tcp(port, service, clientNext + 1, serverNext, TcpFlags.Ack, default)));
        link.Clear();
        return answered;
    }

    private static byte[] ArpRequest()
    {
        byte[] frame = new byte[42];
        MacAddress.Parse("ff:ff:ff:ff:ff:ff").CopyTo(frame);
        PeerMac.CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        Span<byte> arp = frame.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 1);
        PeerMac.CopyTo(arp[8..]);
        PeerIp.CopyTo(arp[14..]);
        StackIp.CopyTo(arp[24..]);
        return frame;
    }

    private static byte[] Icmp(int round)
    {
        byte[] icmp = new byte[16];
        icmp[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(4), 0x7777);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), (ushort)round);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Checksum.Compute(icmp));
        return icmp;
    }

    // UDP checksum 0: none, which IPv4 allows.
    private static byte[] Udp(ushort source, ushort destination, ReadOnlySpan<byte> payload)
    {
        byte[] udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, source);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), destination);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        payload.CopyTo(udp.AsSpan(8));
        return udp;
    }

    private static byte[] Tcp(ushort source, ushort destination, uint sequence, uint acknowledgment, TcpFlags flags, ReadOnlySpan<byte> payload, bool syn = false)
    {
        var header = new TcpHeader(source, destination, sequence, acknowledgment, flags, 65535)
        {
            MaxSegmentSize = syn ? (ushort)1460 : null,
            WindowScale = syn ? (byte)7 : null,
            SackPermitted = syn,
        };
        byte[] segment = new byte[header.HeaderLength + payload.Length];
        payload.CopyTo(segment.AsSpan(header.HeaderLength));
        header.EmitWithChecksum(segment, PeerIp, StackIp);
        return segment;
    }

    private static byte[] Ipv4(byte protocol, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[34 + payload.Length];
        StackMac.CopyTo(frame);
        PeerMac.CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        Span<byte> ip = frame.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000);
        ip[8] = 64;
        ip[9] = protocol;
        PeerIp.CopyTo(ip[12..]);
        StackIp.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..20]));
        payload.CopyTo(ip[20..]);
        return frame;
    }

    private static void Must(StackError error)
    {
        if (error != StackError.None)
            throw new InvalidOperationException($"stack warm-up: {error}");
    }
}
