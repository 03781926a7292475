using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

// Output of the IPv6 packets the stack originates or answers with: whole when they fit the path
// MTU, otherwise in fragments (RFC 8200 §4.5), as Linux's ip6_fragment cuts them. Forwarded
// packets never come here: routers do not fragment IPv6 (RFC 8200 §5).
internal sealed partial class Ipv6Endpoint
{
    private const int FragmentHeaderLength = 8;
    private const ushort MoreFragmentsFlag = 1;

    /// <summary>
    /// Writes an IPv6 frame the stack built (link header filled in) to the link, in fragments when
    /// its packet exceeds the path MTU; false when the packet could not be fragmented or the link
    /// refused a frame. The caller counts the packet as sent or as an error.
    /// </summary>
    /// <remarks>Fragments are built in the NIC's per-worker fragment buffer, so a worker allocates nothing here.</remarks>
    internal bool Output(int worker, Span<byte> frame)
    {
        int mtu = PathMtu(frame);
        if (frame.Length - LinkHeaderLength <= mtu)
            return _nic.WriteFrame(worker, frame);
        NicStats stats = _nic.Stats;
        if (!WriteFragments(worker, frame, mtu))
        {
            stats.Add(worker, StatCounter.Ipv6FragmentationFailures);
            return false;
        }
        stats.Add(worker, StatCounter.Ipv6PacketsFragmented);
        return true;
    }

    // The path MTU toward the packet's destination: what a Packet Too Big taught (NetworkStack.PathMtus, as
    // Linux's route exceptions) or the link's. Nothing can be below 1280, so small packets skip the lookup.
    private int PathMtu(ReadOnlySpan<byte> frame)
    {
        if (frame.Length - LinkHeaderLength <= PathMtuCache.MinIpv6)
            return _nic.Link.Mtu;
        return _nic.Stack.PathMtus.Get(new Ipv6Address(frame.Slice(LinkHeaderLength + 24, 16)), _nic.Link.Mtu);
    }

    private bool WriteFragments(int worker, Span<byte> frame, int mtu)
    {
        if (!Ipv6Packet.TryCreate(frame[LinkHeaderLength..], out Ipv6Packet ip, out _)
            || !TryFindPerFragmentHeaders(ip, out int perFragmentLength, out int nextHeaderField))
            return false;
        // §4.5: every fragment but the last carries a multiple of 8 octets (Linux: the MTU less
        // the per-fragment headers and the Fragment header, rounded down to 8).
        int chunk = (mtu - perFragmentLength - FragmentHeaderLength) & ~7;
        if (chunk < 8)
            return false;
        Span<byte> packet = ip.Packet;
        ReadOnlySpan<byte> data = packet[perFragmentLength..];
        uint identification = _nic.Stack.Ipv6FragmentIds.Next(worker, ip.Source, ip.Destination);

        // The link header, the per-fragment headers and the Fragment header are written once; each
        // fragment then changes only the payload length, the offset and the M flag.
        Span<byte> scratch = _nic.FragmentScratch(worker);
        int dataStart = LinkHeaderLength + perFragmentLength + FragmentHeaderLength;
        frame[..(LinkHeaderLength + perFragmentLength)].CopyTo(scratch);
        Span<byte> header = scratch[LinkHeaderLength..];
        header[nextHeaderField] = (byte)IpProtocol.Ipv6Fragment;
        Span<byte> fragmentHeader = header.Slice(perFragmentLength, FragmentHeaderLength);
        fragmentHeader[0] = packet[nextHeaderField];
        fragmentHeader[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(fragmentHeader[4..], identification);

        NicStats stats = _nic.Stats;
        for (int offset = 0; offset < data.Length; offset += chunk)
        {
            int length = Math.Min(chunk, data.Length - offset);
            bool more = offset + length < data.Length;
            BinaryPrimitives.WriteUInt16BigEndian(header[4..], (ushort)(perFragmentLength - Ipv6Packet.HeaderLength + FragmentHeaderLength + length));
            BinaryPrimitives.WriteUInt16BigEndian(fragmentHeader[2..], (ushort)(offset | (more ? MoreFragmentsFlag : 0)));
            data.Slice(offset, length).CopyTo(scratch[dataStart..]);
            if (!_nic.WriteFrame(worker, scratch[..(dataStart + length)]))
                return false;
            stats.Add(worker, StatCounter.Ipv6FragmentsCreated);
        }
        return true;
    }

    // RFC 8200 §4.5: the per-fragment part is the fixed header and the extension headers nodes en
    // route must see: all up to and including the (last) Routing header, else the Hop-by-Hop header,
    // else none. nextHeaderField is the octet, from the fixed header, that will name the Fragment
    // header. Linux's ip6_find_1stfragopt differs in one case: it also keeps a Destination Options
    // header that no Routing header follows in every fragment; the RFC makes it fragmentable. A
    // packet that already has a Fragment header is not cut again.
    private static bool TryFindPerFragmentHeaders(Ipv6Packet ip, out int length, out int nextHeaderField)
    {
        length = Ipv6Packet.HeaderLength;
        nextHeaderField = 6;
        var reader = new Ipv6ExtensionHeaderReader(ip);
        while (reader.MoveNext())
        {
            Ipv6ExtensionHeader header = reader.Current;
            if (header.Type == IpProtocol.Ipv6Fragment)
                return false;
            if (header.Type is IpProtocol.HopByHop or IpProtocol.Ipv6Routing)
            {
                nextHeaderField = header.Offset;
                length = header.Offset + header.Length;
            }
        }
        return reader.Error == WireError.None;
    }
}
