using System.Buffers.Binary;
using XdpStack.Stack;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Punt;

/// <summary>Decides which frames the kernel sends on a TAP go out of the interface: all but its answers to neighbour queries the appliance answers itself.</summary>
/// <remarks>
/// The kernel twin has the interface's addresses and MAC, so it answers ARP requests and neighbour solicitations for
/// them exactly as the appliance does. Two identical answers are harmless but double the traffic and the peers'
/// work; the appliance's answer is the one kept, because it comes from the worker without a detour through the
/// kernel. The kernel's answers for addresses only it has (its IPv6 link-local address) go out.
/// </remarks>
internal static class InjectFilter
{
    private const int EthernetHeader = EthernetFrame.UntaggedHeaderLength;

    /// <summary>False for an ARP reply whose sender address, or a neighbour advertisement whose target address, is one of <paramref name="addresses"/>.</summary>
    public static bool ShouldSend(ReadOnlySpan<byte> frame, AddressSnapshot addresses)
    {
        if (frame.Length < EthernetHeader)
            return false;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (etherType == (ushort)EtherType.Arp)
        {
            // RFC 826 over Ethernet and IPv4: operation at 6, sender protocol address at 14.
            if (frame.Length < EthernetHeader + ArpPacket.Length)
                return true;
            ReadOnlySpan<byte> arp = frame[EthernetHeader..];
            bool reply = BinaryPrimitives.ReadUInt16BigEndian(arp[6..]) == (ushort)ArpOperation.Reply;
            return !(reply && addresses.Ipv4.ContainsKey(new Ipv4Address(BinaryPrimitives.ReadUInt32BigEndian(arp[14..]))));
        }
        if (etherType == (ushort)EtherType.Ipv6)
        {
            // The kernel sends NDP without extension headers: next header 58 at 6, ICMPv6 type at 40, target at 48 (RFC 4861 §4.4).
            const int Target = Ipv6Packet.HeaderLength + 8;
            ReadOnlySpan<byte> ip = frame[EthernetHeader..];
            if (ip.Length < Target + 16 || ip[6] != (byte)IpProtocol.Icmpv6 || ip[Ipv6Packet.HeaderLength] != (byte)Icmpv6Type.NeighborAdvertisement)
                return true;
            return !addresses.Ipv6.ContainsKey(Ipv6Address.Read(ip[Target..]));
        }
        return true;
    }
}
