using XdpStack.Fuzz.Router;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>
/// The whole receive path: a sequence of frames (<see cref="FrameSequence"/>) into <see cref="FuzzRouter"/>'s two NICs,
/// through ARP, NDP, IPv4/IPv6 with options and extension headers, reassembly, forwarding, ICMP errors, UDP echo and
/// discard, and TCP (handshakes, SYN cookies, data, retransmission, close, ICMP errors about segments) with its echo,
/// discard and HTTP services; whatever the stack sends must be a well-formed frame.
/// </summary>
/// <remarks>
/// The stack is made once (its route tables alone are tens of megabytes) and brought back to its start before each
/// input (<see cref="FuzzRouter.Reset"/>), so an input replays alone. The worker's timers (TCP's retransmissions,
/// delayed ACKs, TIME_WAIT) run after each advance of the clock. TCP acknowledgment numbers are relative to the last
/// SYN-ACK's ISN (<see cref="TcpAckRebase"/>), so inputs can finish handshakes.
/// </remarks>
internal sealed class ReceiveTarget : FuzzTarget
{
    private readonly FrameRecord[] _records = new FrameRecord[FrameSequence.MaxFrames];
    private readonly TcpAckRebase _acks = new();
    private FuzzRouter? _router;

    public override string Name => "receive";

    public override string Covers => "two-NIC NetworkStack with forwarding, UDP and TCP services: frames in, only well-formed frames out";

    public override int MaxLength => 8192;

    public override void Run(ReadOnlySpan<byte> input)
    {
        _router ??= new FuzzRouter();
        _router.Reset();
        _acks.Reset();
        int count = FrameSequence.Parse(input, _records);
        for (int i = 0; i < count; i++)
        {
            FrameRecord record = _records[i];
            _router.Clock.Advance(TimeSpan.FromMilliseconds(record.AdvanceMilliseconds));
            _router.Stack.PollTimers(0);
            (record.SecondNic ? _router.Link2 : _router.Link1).InjectInbound(_acks.Rebase(input.Slice(record.Offset, record.Length)));
            CheckSent(_router.Link1.ReadAll(), "nic 1");
            CheckSent(_router.Link2.ReadAll(), "nic 2");
        }
        // Timers (neighbour probes, reassembly timeouts, TCP retransmissions) may send too.
        _router.Clock.Advance(TimeSpan.FromSeconds(60));
        _router.Stack.PollTimers(0);
        CheckSent(_router.Link1.ReadAll(), "nic 1");
        CheckSent(_router.Link2.ReadAll(), "nic 2");
    }

    // What the stack sends, it built or rewrote and checked: an Ethernet frame carrying an ARP packet, or an IP packet
    // whose lengths hold and (IPv4) whose header checksum verifies.
    private void CheckSent(List<byte[]> frames, string nic)
    {
        _acks.Observe(frames);
        foreach (byte[] frame in frames)
        {
            FuzzCheckException.That(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out WireError error), $"{nic} sent a bad Ethernet frame ({error}): {Convert.ToHexString(frame)}");
            switch (ethernet.EtherType)
            {
                case EtherType.Arp:
                    FuzzCheckException.That(ArpPacket.TryCreate(ethernet.Payload, out _, out error), $"{nic} sent a bad ARP packet ({error}): {Convert.ToHexString(frame)}");
                    break;
                case EtherType.Ipv4:
                    FuzzCheckException.That(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip4, out error) && ip4.VerifyChecksum(),
                        $"{nic} sent a bad IPv4 packet ({error}): {Convert.ToHexString(frame)}");
                    break;
                case EtherType.Ipv6:
                    FuzzCheckException.That(Ipv6Packet.TryCreate(ethernet.Payload, out _, out error), $"{nic} sent a bad IPv6 packet ({error}): {Convert.ToHexString(frame)}");
                    break;
                default:
                    throw new FuzzCheckException($"{nic} sent EtherType {ethernet.EtherType}: {Convert.ToHexString(frame)}");
            }
        }
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source)
    {
        foreach (byte[] frame in source.Frames)
            yield return FrameSequence.One(frame);
        // Each capture whole, as one exchange: ARP then ping, the three fragments of one packet, the TCP handshake.
        foreach (List<byte[]> capture in source.Captures.Values)
            yield return FrameSequence.Encode([.. capture.Select(frame => (false, 0, frame))]);
        foreach ((bool secondNic, byte[] frame) in SeedFrames.Transit(source))
            yield return FrameSequence.One(frame, secondNic);
        // Whole TCP conversations with each service, both families, acknowledgment numbers relative to our ISN.
        foreach (bool ipv6 in new[] { false, true })
        {
            yield return FrameSequence.Encode(
                (false, 0, SeedFrames.Tcp(ipv6, 80, TcpFlags.Syn, 1000, 0, [])),
                (false, 0, SeedFrames.Tcp(ipv6, 80, TcpFlags.Ack, 1001, 1, [])),
                (false, 0, SeedFrames.Tcp(ipv6, 80, TcpFlags.Ack | TcpFlags.Psh, 1001, 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nConnection: close\r\n\r\n"u8.ToArray())),
                (false, 5, SeedFrames.Tcp(ipv6, 80, TcpFlags.Ack | TcpFlags.Fin, 1066, 1, [])));
            yield return FrameSequence.Encode(
                (false, 0, SeedFrames.Tcp(ipv6, 7, TcpFlags.Syn, 5000, 0, [])),
                (false, 0, SeedFrames.Tcp(ipv6, 7, TcpFlags.Ack | TcpFlags.Psh, 5001, 1, "hello, echo"u8.ToArray())),
                (false, 20, SeedFrames.Tcp(ipv6, 7, TcpFlags.Ack, 5012, 12, [])),
                (false, 0, SeedFrames.Tcp(ipv6, 7, TcpFlags.Rst | TcpFlags.Ack, 5012, 12, [])));
            yield return FrameSequence.Encode(
                (false, 0, SeedFrames.Tcp(ipv6, 9, TcpFlags.Syn, 9000, 0, [])),
                (false, 0, SeedFrames.Tcp(ipv6, 9, TcpFlags.Ack, 9001, 1, new byte[1200])),
                (false, 0, SeedFrames.Tcp(ipv6, 9, TcpFlags.Ack, 10201, 1, new byte[1200])),
                (false, 0, SeedFrames.Tcp(ipv6, 9, TcpFlags.Ack | TcpFlags.Fin, 11401, 1, [])));
        }
    }
}
