using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>The IPv6 extension-header walker: MoveNext step by step and TryWalk must agree, and stay inside the packet.</summary>
/// <remarks>The input is an IPv6 packet; it also runs with version and payload length made to fit, so every input reaches the walk.</remarks>
internal sealed class Ipv6ExtensionsTarget : WireTarget
{
    public override string Name => "ipv6-extensions";

    public override string Covers => "Ipv6ExtensionHeaderReader: MoveNext and TryWalk agree, offsets stay in the packet";

    public override void Run(ReadOnlySpan<byte> input)
    {
        Span<byte> bytes = Buffer.Place(input);
        Walk(bytes);
        if (bytes.Length >= Ipv6Packet.HeaderLength)
        {
            bytes[0] = (byte)(0x60 | (bytes[0] & 0x0F));
            BinaryPrimitives.WriteUInt16BigEndian(bytes[4..], (ushort)Math.Min(bytes.Length - Ipv6Packet.HeaderLength, ushort.MaxValue));
            Walk(bytes);
        }
    }

    private static void Walk(Span<byte> bytes)
    {
        if (!Ipv6Packet.TryCreate(bytes, out Ipv6Packet ip, out _))
            return;
        int packetLength = ip.Packet.Length;
        var reader = new Ipv6ExtensionHeaderReader(ip);
        int previousEnd = Ipv6Packet.HeaderLength;
        while (reader.MoveNext())
        {
            Ipv6ExtensionHeader header = reader.Current;
            Check(header.Offset == previousEnd, "headers are not contiguous");
            Check(header.Offset + header.Length <= packetLength, "a header runs past the packet");
            Check(Ipv6ExtensionHeaderReader.IsExtensionHeader(header.Type), $"{header.Type} walked as an extension header");
            _ = (int)header.NextHeader + header.Options.Length + header.RoutingType + header.SegmentsLeft + header.FragmentOffset
                + (header.MoreFragments ? 1 : 0) + header.FragmentIdentification;
            previousEnd = header.Offset + header.Length;
        }
        Check(reader.Count <= Ipv6ExtensionHeaderReader.MaxHeaders, "more headers than the limit");
        bool walked = Ipv6ExtensionHeaderReader.TryWalk(ip, out Ipv6ExtensionChain chain, out WireError error);
        Check(walked == (reader.Error == WireError.None), $"TryWalk {walked} but the reader stopped with {reader.Error}");
        if (!walked)
        {
            Check(error == reader.Error, $"TryWalk said {error}, the reader {reader.Error}");
            return;
        }
        Check(chain.UpperLayerOffset == reader.UpperLayerOffset && chain.UpperLayerProtocol == reader.UpperLayerProtocol
            && chain.HeaderCount == reader.Count, "TryWalk and the reader end at different places");
        Check(chain.UpperLayerOffset <= packetLength && chain.UpperLayerLength >= 0
            && chain.UpperLayerOffset + chain.UpperLayerLength == packetLength, "upper layer outside the packet");
        Check(!chain.HasFragmentHeader || chain.FragmentHeaderOffset + 8 <= packetLength, "fragment header outside the packet");
        Check(!chain.HasRoutingHeader || chain.RoutingHeaderOffset + 8 <= packetLength, "routing header outside the packet");
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => IpPackets(source).Where(p => p.Length > 0 && p[0] >> 4 == 6);
}
