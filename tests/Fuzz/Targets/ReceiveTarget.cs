using XdpStack.Fuzz.Router;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>
/// The whole receive path: a sequence of frames (<see cref="FrameSequence"/>) into <see cref="FuzzRouter"/>'s two NICs,
/// through ARP, NDP, IPv4/IPv6 with options and extension headers, reassembly, forwarding, ICMP errors, and UDP echo and
/// discard; whatever the stack sends must be a well-formed frame.
/// </summary>
/// <remarks>
/// The stack is made once (its route tables alone are tens of megabytes) and brought back to its start before each
/// input (<see cref="FuzzRouter.Reset"/>), so an input replays alone.
/// </remarks>
internal sealed class ReceiveTarget : FuzzTarget
{
    private readonly FrameRecord[] _records = new FrameRecord[FrameSequence.MaxFrames];
    private FuzzRouter? _router;

    public override string Name => "receive";

    public override string Covers => "two-NIC NetworkStack with forwarding and UDP services: frames in, only well-formed frames out";

    public override int MaxLength => 8192;

    public override void Run(ReadOnlySpan<byte> input)
    {
        _router ??= new FuzzRouter();
        _router.Reset();
        int count = FrameSequence.Parse(input, _records);
        for (int i = 0; i < count; i++)
        {
            FrameRecord record = _records[i];
            _router.Clock.Advance(TimeSpan.FromMilliseconds(record.AdvanceMilliseconds));
            (record.SecondNic ? _router.Link2 : _router.Link1).InjectInbound(input.Slice(record.Offset, record.Length));
            CheckSent(_router.Link1.ReadAll(), "nic 1");
            CheckSent(_router.Link2.ReadAll(), "nic 2");
        }
        // Timers (neighbour probes, reassembly timeouts) may send too.
        _router.Clock.Advance(TimeSpan.FromSeconds(60));
        CheckSent(_router.Link1.ReadAll(), "nic 1");
        CheckSent(_router.Link2.ReadAll(), "nic 2");
    }

    // What the stack sends, it built or rewrote and checked: an Ethernet frame carrying an ARP packet, or an IP packet
    // whose lengths hold and (IPv4) whose header checksum verifies.
    private static void CheckSent(List<byte[]> frames, string nic)
    {
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
    }
}
