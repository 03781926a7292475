using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>Ipv6Packet and Ipv6Header: accessors, the hop-limit decrement, and parse → emit → parse.</summary>
/// <remarks>Each input also runs with its version and payload length made to fit, so the fuzzer gets past them.</remarks>
internal sealed class Ipv6Target : WireTarget
{
    public override string Name => "ipv6";

    public override string Covers => "Ipv6Packet/Ipv6Header: accessors, hop limit, round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> bytes = Buffer.Place(input);
        Examine(bytes);
        if (bytes.Length >= Ipv6Packet.HeaderLength)
        {
            bytes[0] = (byte)(0x60 | (bytes[0] & 0x0F));
            BinaryPrimitives.WriteUInt16BigEndian(bytes[4..], (ushort)Math.Min(bytes.Length - Ipv6Packet.HeaderLength, ushort.MaxValue));
            Examine(bytes);
        }
    }

    private static void Examine(Span<byte> bytes)
    {
        if (!Ipv6Packet.TryCreate(bytes, out Ipv6Packet ip, out WireError error))
        {
            Check(error != WireError.None, "refused without a reason");
            return;
        }
        Check(ip.Packet.Length == Ipv6Packet.HeaderLength + ip.PayloadLength && ip.Packet.Length <= bytes.Length, "packet length outside the buffer");
        _ = (ulong)(ip.Version + ip.TrafficClass + ip.FlowLabel + (int)ip.NextHeader + ip.HopLimit + ip.Payload.Length) + ip.Source.Low + ip.Destination.High;
        Check(Ipv6Header.TryParse(ip, out Ipv6Header header), "a checked packet did not parse");
        byte[] emitted = new byte[header.BufferLength];
        emitted.AsSpan().Fill(0xA5);
        header.Emit(emitted);
        ip.Payload.CopyTo(emitted.AsSpan(header.HeaderLength));
        Check(Ipv6Packet.TryCreate(emitted, out Ipv6Packet again, out _), "emitted packet refused");
        Check(Ipv6Header.TryParse(again, out Ipv6Header reparsed) && reparsed == header, $"round trip: {header} became {reparsed}");
        if (ip.HopLimit > 0)
        {
            byte before = ip.HopLimit;
            Check(again.DecrementHopLimit() == before - 1, "hop limit not decremented by one");
        }
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => IpPackets(source).Where(p => p.Length > 0 && p[0] >> 4 == 6);
}
