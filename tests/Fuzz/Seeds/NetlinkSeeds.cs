using System.Buffers.Binary;
using System.Text;

namespace XdpStack.Fuzz;

/// <summary>Netlink replies as the kernel builds them (include/uapi/linux/netlink.h, rtnetlink.h, if_link.h), for the netlink target's seeds; the first octet picks the parser.</summary>
internal static class NetlinkSeeds
{
    private const ushort NlmsgError = 2, RtmNewlink = 16;
    private const ushort NlmFCapped = 0x100, NlmFAckTlvs = 0x200;

    public static IEnumerable<byte[]> All()
    {
        // RTM_NEWLINK for eth1: name, MAC, MTU, queue counts, and IFLA_XDP with a driver-mode program attached.
        byte[] xdp = [.. Attribute(2, [1]), .. Attribute(4, U32(42)), .. Attribute(5, U32(42))];
        byte[] attributes =
        [
            .. Attribute(3, Encoding.ASCII.GetBytes("eth1\0")), .. Attribute(1, [2, 0, 0, 0, 0, 1]), .. Attribute(4, U32(1500)),
            .. Attribute(31, U32(2)), .. Attribute(32, U32(2)), .. Attribute(43 | 0x8000, xdp),
        ];
        yield return [0, .. Message(RtmNewlink, 0, [.. Ifinfomsg(5), .. attributes])];
        yield return [0, .. Message(RtmNewlink, 0, Ifinfomsg(1))];
        // NLMSG_ERROR: an ACK, an error echoing the request with an extended-ack message, and a capped one.
        yield return [1, .. Message(NlmsgError, 0, [.. U32(0), .. Header(RtmNewlink, 32, 0)])];
        byte[] request = Message(RtmNewlink, 0, Ifinfomsg(5));
        byte[] message = Attribute(1, Encoding.ASCII.GetBytes("native XDP not supported\0"));
        yield return [1, .. Message(NlmsgError, NlmFAckTlvs, [.. U32(unchecked((uint)-95)), .. request, .. message])];
        yield return [1, .. Message(NlmsgError, NlmFAckTlvs | NlmFCapped, [.. U32(unchecked((uint)-22)), .. Header(RtmNewlink, 32, 0), .. message])];
    }

    private static byte[] Message(ushort type, ushort flags, byte[] payload) => [.. Header(type, 16 + payload.Length, flags), .. payload];

    private static byte[] Header(ushort type, int length, ushort flags)
    {
        byte[] header = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), 7);
        return header;
    }

    private static byte[] Ifinfomsg(int index)
    {
        byte[] info = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(info.AsSpan(4), index);
        return info;
    }

    private static byte[] Attribute(int type, byte[] value)
    {
        byte[] attribute = new byte[(4 + value.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute.AsSpan(2), (ushort)type);
        value.CopyTo(attribute, 4);
        return attribute;
    }

    private static byte[] U32(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }
}
