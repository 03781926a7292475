using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

// Sending packets the stack originates or answers with, and fragmenting them to the link MTU.
public sealed partial class Nic
{
    // One fragmentation buffer per worker, made on its first use by that worker; only it touches it.
    private readonly byte[]?[] _fragmentScratch;

    /// <summary>Sends an IPv4 packet built by <see cref="Route.WritePacket"/>: its Ethernet header is filled here, resolving the next hop if needed.</summary>
    internal StackError SendIpv4(byte[] frame, Route route)
    {
        if (route.RemoteLinkAddress is not { } destination)
            return Arp.ResolveAndSend(frame, route.NextHop.V4, route.LocalAddress.V4);
        new EthernetHeader(destination, Link.LinkAddress, EtherType.Ipv4).Emit(frame);
        return SendResolved(NicStats.ControlWorker, frame);
    }

    /// <summary>Sends a complete IPv4 frame whose link header is already filled in.</summary>
    internal StackError SendResolved(int worker, ReadOnlySpan<byte> frame)
    {
        if (!WriteFrame(worker, frame))
        {
            Stats.Add(worker, StatCounter.Ipv4OutgoingPacketErrors);
            return StackError.WouldBlock;
        }
        Stats.Add(worker, StatCounter.Ipv4PacketsSent);
        return StackError.None;
    }

    /// <summary>Sends a complete IPv4 frame, fragmenting it (RFC 791 §3.2) when its packet exceeds the link MTU, or for a packet the stack originated (<paramref name="ownPacket"/>) the path MTU learned for its destination; fragments after the first carry only the options marked copied.</summary>
    /// <remarks>
    /// Fragments are built in a per-worker scratch buffer, so the receive path allocates nothing here. A forwarded
    /// packet is cut to the link MTU alone, as Linux's ip_forward does with net.ipv4.ip_forward_use_pmtu at 0.
    /// </remarks>
    internal bool WriteIpv4Frame(int worker, ReadOnlySpan<byte> frame, bool ownPacket = false)
    {
        int linkHeader = EthernetFrame.UntaggedHeaderLength;
        int mtu = ownPacket ? Ipv4PathMtu(frame) : Link.Mtu;
        if (frame.Length - linkHeader <= mtu)
            return WriteFrame(worker, frame);
        ReadOnlySpan<byte> ip = frame[linkHeader..];
        int headerLength = (ip[0] & 0xF) * 4;
        int chunk = (mtu - headerLength) & ~7;
        if (chunk <= 0)
            return false;
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        int baseOffset = (flags & 0x1FFF) * 8;
        bool originalMore = (flags & 0x2000) != 0;
        Span<byte> scratch = FragmentScratch(worker);
        ReadOnlySpan<byte> payload = ip[headerLength..];
        for (int offset = 0; offset < payload.Length; offset += chunk)
        {
            int length = Math.Min(chunk, payload.Length - offset);
            bool more = offset + length < payload.Length || originalMore;
            Span<byte> fragment = scratch[..(linkHeader + headerLength + length)];
            frame[..(linkHeader + headerLength)].CopyTo(fragment);
            payload.Slice(offset, length).CopyTo(fragment[(linkHeader + headerLength)..]);
            Span<byte> header = fragment[linkHeader..];
            BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(headerLength + length));
            BinaryPrimitives.WriteUInt16BigEndian(header[6..], (ushort)((more ? 0x2000 : 0) | ((baseOffset + offset) >> 3)));
            if (offset > 0)
                Network.Ipv4.Ipv4ForwardingOptions.ClearUncopied(header[Ipv4Packet.MinHeaderLength..headerLength]);
            Network.Ipv4.Ipv4Endpoint.UpdateHeaderChecksum(header);
            if (!WriteFrame(worker, fragment))
                return false;
        }
        return true;
    }

    /// <summary>True when the IPv4 packet in <paramref name="frame"/> may be fragmented and exceeds the path MTU learned for its destination.</summary>
    internal bool ExceedsPathMtu(ReadOnlySpan<byte> frame) =>
        frame.Length - EthernetFrame.UntaggedHeaderLength > Ipv4PathMtu(frame);

    // What an IPv4 packet the stack sends is cut to: the path MTU learned for its destination, or the link's. A packet
    // with DF set is its sender's to size (TCP shrinks its segments itself), so only the link MTU applies to it.
    private int Ipv4PathMtu(ReadOnlySpan<byte> frame)
    {
        ReadOnlySpan<byte> ip = frame[EthernetFrame.UntaggedHeaderLength..];
        if (frame.Length - EthernetFrame.UntaggedHeaderLength <= Network.PathMtuCache.MinIpv4 || (ip[6] & 0x40) != 0)
            return Link.Mtu;
        return Stack.PathMtus.Get(Ipv4Address.Read(ip[16..]), Link.Mtu);
    }

    /// <summary>A buffer for one fragment frame (link header and a packet of the link MTU), shared by IPv4 and IPv6: the worker's own, made on its first use, or a fresh one for control threads, which may run at once.</summary>
    internal Span<byte> FragmentScratch(int worker)
    {
        int length = EthernetFrame.UntaggedHeaderLength + Link.Mtu;
        return worker >= 0 ? _fragmentScratch[worker] ??= new byte[length] : new byte[length];
    }

    /// <summary>
    /// Sends an ICMPv4 error about <paramref name="offendingFrame"/> (a received Ethernet frame
    /// carrying a valid IPv4 packet) back to the MAC it came from, for the forwarding path: Time
    /// Exceeded, Destination Unreachable, Parameter Problem. Applies RFC 1122 §3.2.2 (behaviour 37)
    /// and the token bucket (behaviour 38); returns false when the error was not sent.
    /// </summary>
    /// <param name="worker">The calling worker, or <see cref="NicStats.ControlWorker"/>.</param>
    /// <param name="offendingFrame">The frame the error is about; it is only read.</param>
    /// <param name="type">The ICMP error type.</param>
    /// <param name="code">The code within <paramref name="type"/>.</param>
    /// <param name="rest">The second word of the ICMP header: a pointer, or the next-hop MTU for Fragmentation Needed.</param>
    public bool SendIcmpv4Error(int worker, Span<byte> offendingFrame, Icmpv4Type type, byte code, uint rest = 0) =>
        Ipv4.SendError(worker, Volatile.Read(ref _snapshot), offendingFrame, type, code, rest);
}
