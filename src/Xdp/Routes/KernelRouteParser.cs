using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp.Routes;

/// <summary>Reads NETLINK_ROUTE route messages (RTM_NEWROUTE, RTM_DELROUTE) without ever throwing: a malformed message is refused, not read past.</summary>
/// <remarks>
/// Layout (include/uapi/linux/rtnetlink.h): nlmsghdr (16 octets), struct rtmsg (12), then rtattrs, each a 4-octet
/// header (length, type) and a value padded to 4 octets. RTA_MULTIPATH holds a list of struct rtnexthop (8 octets),
/// each followed by its own rtattrs inside rtnh_len. The kernel is trusted to build these correctly, but a reader of a
/// socket must not crash on a short read or a future layout, so every length is checked before use.
/// </remarks>
public static class KernelRouteParser
{
    private const int HeaderLength = 16;
    private const int RtmsgLength = 12;
    private const int RtnexthopLength = 8;

    /// <summary>The outcome of reading one netlink message.</summary>
    public enum Result
    {
        /// <summary>An IPv4 or IPv6 route message; the change is set.</summary>
        Route,

        /// <summary>A well-formed message that is not a route of IPv4 or IPv6 (another type or family).</summary>
        Other,

        /// <summary>The message is truncated or inconsistent.</summary>
        Malformed,
    }

    /// <summary>Reads one netlink message (header included, <paramref name="message"/> exactly nlmsg_len long).</summary>
    public static Result TryParse(ReadOnlySpan<byte> message, out KernelRouteChange change)
    {
        change = default;
        if (message.Length < HeaderLength)
            return Result.Malformed;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(message);
        if (length < HeaderLength || length > (uint)message.Length)
            return Result.Malformed;
        message = message[..(int)length];
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);
        KernelRouteChangeKind kind;
        switch (type)
        {
            case RTM_NEWROUTE:
                kind = (flags & NLM_F_REPLACE) != 0 ? KernelRouteChangeKind.Replace : KernelRouteChangeKind.Add;
                break;
            case RTM_DELROUTE:
                kind = KernelRouteChangeKind.Remove;
                break;
            default:
                return Result.Other;
        }
        if (message.Length < HeaderLength + RtmsgLength)
            return Result.Malformed;
        ReadOnlySpan<byte> rtmsg = message.Slice(HeaderLength, RtmsgLength);
        byte family = rtmsg[0];
        int addressLength = family switch { AF_INET => 4, AF_INET6 => 16, _ => 0 };
        if (addressLength == 0)
            return Result.Other;
        int prefixLength = rtmsg[1];
        if (prefixLength > addressLength * 8)
            return Result.Malformed;

        IPAddress? destination = null, gateway = null;
        int oif = 0, otherFamily = 0;
        uint table = rtmsg[4], metric = 0;
        List<KernelNextHop>? hops = null;
        ReadOnlySpan<byte> attributes = message[(HeaderLength + RtmsgLength)..];
        while (NextAttribute(ref attributes, out ushort attr, out ReadOnlySpan<byte> value))
        {
            switch (attr)
            {
                case RTA_DST:
                    if (value.Length != addressLength)
                        return Result.Malformed;
                    destination = new IPAddress(value);
                    break;
                case RTA_GATEWAY:
                case RTA_VIA:
                    switch (ReadGateway(attr, value, addressLength))
                    {
                        case (GatewayKind.Malformed, _):
                            return Result.Malformed;
                        case (GatewayKind.OtherFamily, _):
                            otherFamily++;
                            break;
                        case (GatewayKind.Address, IPAddress g):
                            gateway = g;
                            break;
                    }
                    break;
                case RTA_OIF:
                    if (value.Length != 4)
                        return Result.Malformed;
                    oif = BinaryPrimitives.ReadInt32LittleEndian(value);
                    break;
                case RTA_PRIORITY:
                    if (value.Length != 4)
                        return Result.Malformed;
                    metric = BinaryPrimitives.ReadUInt32LittleEndian(value);
                    break;
                case RTA_TABLE:
                    if (value.Length != 4)
                        return Result.Malformed;
                    table = BinaryPrimitives.ReadUInt32LittleEndian(value);
                    break;
                case RTA_MULTIPATH:
                    hops = [];
                    if (!ReadMultipath(value, addressLength, hops, ref otherFamily))
                        return Result.Malformed;
                    break;
            }
        }
        if (attributes.Length != 0)
            return Result.Malformed;

        destination ??= addressLength == 4 ? IPAddress.Any : IPAddress.IPv6Any;
        if (hops is null)
        {
            hops = [];
            // A gateway of the other family leaves no next hop this stack can use; otherwise one hop (ifindex 0 for
            // routes such as blackhole that have no interface).
            if (gateway is not null || otherFamily == 0)
                hops.Add(new KernelNextHop(oif, gateway));
        }
        var route = new KernelRoute(
            addressLength == 4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6,
            destination, prefixLength, table, Protocol: rtmsg[5], Type: rtmsg[7],
            Flags: BinaryPrimitives.ReadUInt32LittleEndian(rtmsg[8..]), metric, hops, otherFamily);
        change = new KernelRouteChange(kind, route);
        return Result.Route;
    }

    /// <summary>Takes the next netlink message off a datagram; false at its end, or when the rest cannot be framed (then <paramref name="data"/> is left non-empty).</summary>
    /// <remarks><paramref name="data"/> advances past each message and its padding.</remarks>
    public static bool NextMessage(ref ReadOnlySpan<byte> data, out ReadOnlySpan<byte> message)
    {
        message = default;
        if (data.Length < HeaderLength)
            return false;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (length < HeaderLength || length > (uint)data.Length)
            return false;
        message = data[..(int)length];
        int next = Align((int)length);
        data = next >= data.Length ? default : data[next..];
        return true;
    }

    /// <summary>The message type (nlmsg_type) of a framed message.</summary>
    public static ushort TypeOf(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);

    /// <summary>The flags (nlmsg_flags) of a framed message.</summary>
    public static ushort FlagsOf(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);

    private enum GatewayKind { Malformed, OtherFamily, Address }

    private static (GatewayKind, IPAddress?) ReadGateway(ushort attr, ReadOnlySpan<byte> value, int addressLength)
    {
        if (attr == RTA_GATEWAY)
            return value.Length == addressLength ? (GatewayKind.Address, new IPAddress(value)) : (GatewayKind.Malformed, null);
        // struct rtvia { __kernel_sa_family_t rtvia_family; __u8 rtvia_addr[]; }
        if (value.Length < 2)
            return (GatewayKind.Malformed, null);
        ushort family = BinaryPrimitives.ReadUInt16LittleEndian(value);
        ReadOnlySpan<byte> address = value[2..];
        int length = family switch { AF_INET => 4, AF_INET6 => 16, _ => -1 };
        if (length < 0)
            return (GatewayKind.OtherFamily, null);
        if (address.Length != length)
            return (GatewayKind.Malformed, null);
        return length == addressLength ? (GatewayKind.Address, new IPAddress(address)) : (GatewayKind.OtherFamily, null);
    }

    private static bool ReadMultipath(ReadOnlySpan<byte> list, int addressLength, List<KernelNextHop> hops, ref int otherFamily)
    {
        while (list.Length > 0)
        {
            if (list.Length < RtnexthopLength)
                return false;
            int length = BinaryPrimitives.ReadUInt16LittleEndian(list);
            if (length < RtnexthopLength || length > list.Length)
                return false;
            // struct rtnexthop { u16 rtnh_len; u8 rtnh_flags; u8 rtnh_hops; s32 rtnh_ifindex; }: rtnh_hops is the
            // weight less one (iproute2 prints and takes weight = rtnh_hops + 1).
            int weight = list[3] + 1;
            int ifIndex = BinaryPrimitives.ReadInt32LittleEndian(list[4..]);
            ReadOnlySpan<byte> attributes = list[RtnexthopLength..length];
            IPAddress? gateway = null;
            bool foreign = false;
            while (NextAttribute(ref attributes, out ushort attr, out ReadOnlySpan<byte> value))
            {
                if (attr is RTA_GATEWAY or RTA_VIA)
                {
                    switch (ReadGateway(attr, value, addressLength))
                    {
                        case (GatewayKind.Malformed, _):
                            return false;
                        case (GatewayKind.OtherFamily, _):
                            foreign = true;
                            break;
                        case (GatewayKind.Address, IPAddress g):
                            gateway = g;
                            break;
                    }
                }
            }
            if (attributes.Length != 0)
                return false;
            if (foreign && gateway is null)
                otherFamily++;
            else
                hops.Add(new KernelNextHop(ifIndex, gateway, weight));
            int next = Align(length);
            list = next >= list.Length ? default : list[next..];
        }
        return true;
    }

    /// <summary>Takes the next rtattr off <paramref name="attributes"/>; false at the end or when it is malformed (then <paramref name="attributes"/> is left non-empty).</summary>
    private static bool NextAttribute(ref ReadOnlySpan<byte> attributes, out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (attributes.Length < 4)
            return false;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
        if (length < 4 || length > attributes.Length)
            return false;
        // The top bits are NLA_F_NESTED and NLA_F_NET_BYTEORDER; route attributes are compared without them.
        type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3fff);
        value = attributes[4..length];
        int next = Align(length);
        attributes = next >= attributes.Length ? default : attributes[next..];
        return true;
    }

    private static int Align(int length) => (length + 3) & ~3;
}
