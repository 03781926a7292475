using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpStack.Appliance.Workers;

/// <summary>Turns a received frame around in place so it can be sent back where it came from.</summary>
/// <remarks>
/// Nothing is copied and no checksum is touched. With <see cref="SwapMode.L3"/> the IPv4/IPv6
/// source and destination addresses and the UDP/TCP ports trade places. The IPv4 header checksum
/// and the UDP/TCP checksums (which cover the addresses through the pseudo-header) are one's
/// complement sums, and a sum does not depend on the order of its terms, so swapping two equally
/// sized fields that are both summed leaves every checksum valid. SCTP (CRC32c over the ports) and
/// other protocols keep their ports, for the same reason in reverse. Frames too short for their
/// headers are swapped as far as they go; only a frame shorter than an Ethernet header is refused.
/// </remarks>
internal static class FrameReflector
{
    public const int EthernetHeaderLength = 14;

    private const int EtherTypeOffset = 12;
    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeIpv6 = 0x86DD;
    private const ushort EtherTypeVlan = 0x8100;
    private const ushort EtherTypeQinQ = 0x88A8;
    private const int VlanTagLength = 4;
    private const int MaxVlanTags = 2;

    private const byte ProtocolTcp = 6;
    private const byte ProtocolUdp = 17;

    private const int Ipv4MinHeaderLength = 20;
    private const int Ipv4ProtocolOffset = 9;
    private const int Ipv4FragmentOffset = 6;
    private const ushort Ipv4FragmentOffsetMask = 0x1FFF;
    private const int Ipv4SourceOffset = 12;
    private const int Ipv4DestinationOffset = 16;

    private const int Ipv6HeaderLength = 40;
    private const int Ipv6NextHeaderOffset = 6;
    private const int Ipv6SourceOffset = 8;
    private const int Ipv6DestinationOffset = 24;

    /// <summary>
    /// Swaps the frame's addresses in place. Returns false (and leaves the frame alone) when it
    /// is shorter than an Ethernet header; the caller counts and drops it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Reflect(Span<byte> frame, SwapMode mode)
    {
        if (frame.Length < EthernetHeaderLength)
            return false;
        SwapMacs(ref MemoryMarshal.GetReference(frame));
        if (mode == SwapMode.L3)
            SwapNetworkAndTransport(frame);
        return true;
    }

    /// <summary>Destination MAC (bytes 0-5) and source MAC (6-11) trade places.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SwapMacs(ref byte frame)
    {
        uint dstHigh = Unsafe.ReadUnaligned<uint>(ref frame);
        ushort dstLow = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref frame, 4));
        uint srcHigh = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref frame, 6));
        ushort srcLow = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref frame, 10));
        Unsafe.WriteUnaligned(ref frame, srcHigh);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref frame, 4), srcLow);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref frame, 6), dstHigh);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref frame, 10), dstLow);
    }

    private static void SwapNetworkAndTransport(Span<byte> frame)
    {
        int typeOffset = EtherTypeOffset;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[typeOffset..]);
        // 802.1Q and 802.1ad tags sit between the MACs and the real EtherType.
        for (int tags = 0; tags < MaxVlanTags && (etherType == EtherTypeVlan || etherType == EtherTypeQinQ); tags++)
        {
            typeOffset += VlanTagLength;
            if (typeOffset + 2 > frame.Length)
                return;
            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[typeOffset..]);
        }
        Span<byte> packet = frame[(typeOffset + 2)..];
        if (etherType == EtherTypeIpv4)
            SwapIpv4(packet);
        else if (etherType == EtherTypeIpv6)
            SwapIpv6(packet);
    }

    private static void SwapIpv4(Span<byte> packet)
    {
        if (packet.Length < Ipv4MinHeaderLength || packet[0] >> 4 != 4)
            return;
        int headerLength = (packet[0] & 0xF) * 4;
        if (headerLength < Ipv4MinHeaderLength || headerLength > packet.Length)
            return;
        Swap4(packet, Ipv4SourceOffset, Ipv4DestinationOffset);
        // Only the first fragment carries the transport header.
        bool firstFragment = (BinaryPrimitives.ReadUInt16BigEndian(packet[Ipv4FragmentOffset..]) & Ipv4FragmentOffsetMask) == 0;
        if (firstFragment)
            SwapPorts(packet[headerLength..], packet[Ipv4ProtocolOffset]);
    }

    private static void SwapIpv6(Span<byte> packet)
    {
        if (packet.Length < Ipv6HeaderLength || packet[0] >> 4 != 6)
            return;
        ref byte p = ref MemoryMarshal.GetReference(packet);
        Int128 source = Unsafe.ReadUnaligned<Int128>(ref Unsafe.Add(ref p, Ipv6SourceOffset));
        Int128 destination = Unsafe.ReadUnaligned<Int128>(ref Unsafe.Add(ref p, Ipv6DestinationOffset));
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, Ipv6SourceOffset), destination);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, Ipv6DestinationOffset), source);
        // Extension headers are not walked: only a transport header right after the fixed header
        // has its ports swapped.
        SwapPorts(packet[Ipv6HeaderLength..], packet[Ipv6NextHeaderOffset]);
    }

    private static void SwapPorts(Span<byte> transport, byte protocol)
    {
        if ((protocol == ProtocolUdp || protocol == ProtocolTcp) && transport.Length >= 4)
        {
            ref byte p = ref MemoryMarshal.GetReference(transport);
            ushort source = Unsafe.ReadUnaligned<ushort>(ref p);
            Unsafe.WriteUnaligned(ref p, Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, 2)));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, 2), source);
        }
    }

    private static void Swap4(Span<byte> span, int a, int b)
    {
        ref byte p = ref MemoryMarshal.GetReference(span);
        uint first = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, a));
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, a), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, b)));
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, b), first);
    }
}
