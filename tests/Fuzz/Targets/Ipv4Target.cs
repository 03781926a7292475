using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>Ipv4Packet and Ipv4Header: accessors, checksum, the incremental TTL update, and parse → emit → parse.</summary>
/// <remarks>Each input runs twice, as given and with its header checksum filled in, so the fuzzer gets past the checksum.</remarks>
internal sealed class Ipv4Target : WireTarget
{
    public override string Name => "ipv4";

    public override string Covers => "Ipv4Packet/Ipv4Header: accessors, checksum, TTL decrement (RFC 1624), round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> bytes = Buffer.Place(input);
        if (!Ipv4Packet.TryCreate(bytes, out Ipv4Packet ip, out WireError error))
        {
            Check(error != WireError.None, "refused without a reason");
            return;
        }
        Check(ip.HeaderLength >= Ipv4Packet.MinHeaderLength && ip.TotalLength <= bytes.Length, "lengths outside what TryCreate checked");
        Check(ip.Header.Length + ip.Payload.Length == ip.TotalLength, "header and payload do not make up the total length");
        _ = ip.Version + ip.TypeOfService + ip.Dscp + ip.Ecn + ip.Identification + ip.FragmentOffset + ip.TimeToLive
            + (int)ip.Protocol + ip.HeaderChecksum + ip.Source.Value + ip.Destination.Value + ip.Options.Length
            + (ip.DontFragment ? 1 : 0) + (ip.MoreFragments ? 1 : 0) + (ip.IsFragment ? 1 : 0);
        Examine(ip);
        ip.FillChecksum();
        Check(ip.VerifyChecksum(), "a filled-in checksum does not verify");
        Examine(ip);
    }

    private static void Examine(Ipv4Packet ip)
    {
        if (!Ipv4Header.TryParse(ip, out Ipv4Header header))
        {
            Check(!ip.VerifyChecksum(), "a packet with a good checksum did not parse");
            return;
        }
        byte[] emitted = new byte[header.BufferLength];
        emitted.AsSpan().Fill(0xA5);
        header.Emit(emitted);
        ip.Payload.CopyTo(emitted.AsSpan(header.HeaderLength));
        Check(Ipv4Packet.TryCreate(emitted, out Ipv4Packet again, out _), "emitted packet refused");
        Check(Ipv4Header.TryParse(again, out Ipv4Header reparsed) && reparsed == header, $"round trip: {header} became {reparsed}");

        if (ip.TimeToLive > 0)
        {
            byte[] copy = ip.Buffer[..ip.TotalLength].ToArray();
            Check(Ipv4Packet.TryCreate(copy, out Ipv4Packet decremented, out _), "copy refused");
            byte ttl = decremented.DecrementTimeToLive();
            Check(ttl == ip.TimeToLive - 1, "TTL not decremented by one");
            Check(decremented.VerifyChecksum(), "the incrementally updated checksum does not verify");
        }
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => IpPackets(source);
}
