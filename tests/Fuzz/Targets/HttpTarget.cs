using System.Buffers.Binary;
using System.Text;
using XdpStack.Fuzz.Router;
using XdpStack.Stack;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>
/// The HTTP responder over a real TCP connection: a client completes the handshake with <see cref="FuzzRouter"/>'s
/// port 80, sends the input as its byte stream cut into segments (the first octet sets the cut, the second how the
/// clock moves between them, so keep-alive, header and lingering timers fire too) and acknowledges all it gets; what
/// comes back must be a run of well-formed HTTP/1.1 responses, and nothing may throw.
/// </summary>
internal sealed class HttpTarget : FuzzTarget
{
    private const ushort ClientPort = 40080;
    private const uint ClientIsn = 7000;

    private FuzzRouter? _router;
    private readonly List<byte> _stream = [];
    private uint _next;   // the server's next sequence number
    private bool _fin;    // the server sent its FIN or a RST

    public override string Name => "http";

    public override string Covers => "HttpResponder and TcpConnection: any request stream, cut anywhere, answered with well-formed responses";

    public override int MaxLength => 16384;

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
            return;
        _router ??= new FuzzRouter();
        _router.Reset();
        _stream.Clear();
        int cut = 1 + input[0] % 160;
        int pace = input[1];
        ReadOnlySpan<byte> data = input[2..];

        List<byte[]> sent = Inject(Frame(TcpFlags.Syn, ClientIsn, 0, default, synOptions: true));
        byte[]? synAck = sent.Find(f => (Tcp(f)[13] & 0x12) == 0x12);
        if (synAck is null)
            throw new FuzzCheckException("no SYN-ACK from port 80");
        _next = BinaryPrimitives.ReadUInt32BigEndian(Tcp(synAck)[4..]) + 1;
        _fin = false;
        uint clientNext = ClientIsn + 1;
        Exchange(Frame(TcpFlags.Ack, clientNext, _next, default));

        for (int at = 0; at < data.Length && !_fin; at += cut)
        {
            ReadOnlySpan<byte> piece = data.Slice(at, Math.Min(cut, data.Length - at));
            Exchange(Frame(TcpFlags.Ack | TcpFlags.Psh, clientNext, _next, piece));
            clientNext += (uint)piece.Length;
            Exchange(Frame(TcpFlags.Ack, clientNext, _next, default));
            // Now and then the clock jumps, by up to 81 s, so the responder's timers fire between pieces.
            if ((pace & 1 << (at / cut % 8)) != 0)
            {
                _router.Clock.Advance(TimeSpan.FromMilliseconds((at * 7919 + pace) % 81_000));
                _router.Stack.PollTimers(0);
                Take(_router.Link1.ReadAll());
                Exchange(Frame(TcpFlags.Ack, clientNext, _next, default));
            }
        }
        if (!_fin)
            Exchange(Frame(TcpFlags.Ack | TcpFlags.Fin, clientNext, _next, default));
        Exchange(Frame(TcpFlags.Ack, clientNext + 1, _next, default));
        _router.Clock.Advance(TimeSpan.FromSeconds(90));
        _router.Stack.PollTimers(0);
        Take(_router.Link1.ReadAll());
        CheckResponses();
    }

    private void Exchange(byte[] frame) => Take(Inject(frame));

    private List<byte[]> Inject(byte[] frame)
    {
        _router!.Link1.InjectInbound(frame);
        List<byte[]> sent = _router.Link1.ReadAll();
        foreach (byte[] f in sent)
        {
            Check(EthernetFrame.TryCreate(f, out EthernetFrame ethernet, out _) && ethernet.EtherType == EtherType.Ipv4, "not an IPv4 frame");
            Check(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip, out _) && ip.VerifyChecksum() && ip.Protocol == IpProtocol.Tcp, "not a TCP packet");
            Check(TcpPacket.TryCreate(ip.Payload, out TcpPacket tcp, out _) && tcp.VerifyChecksum(ip.Source, ip.Destination), "bad TCP segment");
            Check(tcp.SourcePort == 80 && tcp.DestinationPort == ClientPort, "segment of another flow");
        }
        return sent;
    }

    // The server's in-order payload joins the stream; a RST or its FIN ends it.
    private void Take(List<byte[]> sent)
    {
        foreach (byte[] f in sent)
        {
            ReadOnlySpan<byte> tcp = Tcp(f);
            uint sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
            byte flags = tcp[13];
            ReadOnlySpan<byte> payload = tcp[((tcp[12] >> 4) * 4)..];
            if ((flags & 0x04) != 0)
            {
                _fin = true;
                return;
            }
            if (sequence == _next && payload.Length > 0)
            {
                foreach (byte b in payload)
                    _stream.Add(b);
                _next += (uint)payload.Length;
            }
            if ((flags & 0x01) != 0 && sequence + (uint)payload.Length == _next)
            {
                _next++;
                _fin = true;
            }
        }
    }

    // The responses: status line, header fields, the empty line, then Content-Length octets of body.
    private void CheckResponses()
    {
        byte[] all = [.. _stream];
        int at = 0;
        while (at < all.Length)
        {
            int end = all.AsSpan(at).IndexOf("\r\n\r\n"u8);
            Check(end > 0, $"a response head without its end at {at}: {Show(all, at)}");
            string head = Encoding.ASCII.GetString(all, at, end);
            string[] lines = head.Split("\r\n");
            Check(lines[0].Length > 13 && lines[0].StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(lines[0].AsSpan(9, 3), out int status)
                && status is >= 200 and <= 599 && lines[0][12] == ' ', $"bad status line '{lines[0]}'");
            long length = 0;
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':');
                Check(colon > 0, $"bad header line '{line}'");
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    length = long.Parse(line.AsSpan(colon + 1).Trim());
            }
            at += end + 4;
            // The body is filler; the stream may stop inside the last one (the connection ended).
            long body = Math.Min(length, all.Length - at);
            Check(all.AsSpan(at, (int)body).IndexOfAnyExcept((byte)'x') < 0, "body is not the filler");
            at += (int)body;
        }
    }

    private static string Show(byte[] bytes, int at) => Convert.ToHexString(bytes, at, Math.Min(64, bytes.Length - at));

    private static ReadOnlySpan<byte> Tcp(byte[] frame) => frame.AsSpan(14 + (frame[14] & 0xF) * 4);

    private static byte[] Frame(TcpFlags flags, uint sequence, uint acknowledgment, ReadOnlySpan<byte> payload, bool synOptions = false)
    {
        var header = new TcpHeader(ClientPort, 80, sequence, acknowledgment, flags, 65535)
        {
            MaxSegmentSize = synOptions ? (ushort)1460 : null,
            WindowScale = synOptions ? (byte)7 : null,
            SackPermitted = synOptions,
        };
        byte[] frame = new byte[14 + 20 + header.HeaderLength + payload.Length];
        FuzzRouter.Mac1.CopyTo(frame);
        FuzzRouter.HostAMac.CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        Span<byte> ip = frame.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + header.HeaderLength + payload.Length));
        ip[8] = 64;
        ip[9] = (byte)IpProtocol.Tcp;
        FuzzRouter.HostA.CopyTo(ip[12..]);
        FuzzRouter.Ip1.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..20]));
        Span<byte> segment = ip[20..];
        payload.CopyTo(segment[header.HeaderLength..]);
        header.EmitWithChecksum(segment, FuzzRouter.HostA, FuzzRouter.Ip1);
        return frame;
    }

    private static void Check(bool condition, string what) => FuzzCheckException.That(condition, what);

    public override IEnumerable<byte[]> Seeds(SeedSource source)
    {
        string[] streams =
        [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\n\n\r\n\r\nGET / HTTP/2.0\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        ];
        foreach (string stream in streams)
        {
            foreach (byte cut in (byte[])[0, 3, 17, 159])
                yield return [cut, 0x55, .. Encoding.ASCII.GetBytes(stream)];
        }
    }
}
