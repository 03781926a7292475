using System.Buffers.Binary;
using System.Text;
using XdpStack.Xdp.Interop;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>A NETLINK_ROUTE socket for reading link attributes and setting XDP programs.</summary>
/// <remarks>
/// The socket belongs to the network namespace of the thread that created it, so an object kept
/// for later (a netlink-attached program's detach) keeps talking to the right namespace even when
/// disposed from another thread.
/// </remarks>
internal sealed unsafe class RouteNetlink : IDisposable
{
    private const int ReceiveBufferSize = 64 * 1024;
    private int _fd;
    private uint _seq;

    public RouteNetlink()
    {
        _fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (_fd < 0)
            throw XdpException.FromErrno("socket(AF_NETLINK, NETLINK_ROUTE)");
        int one = 1;
        // Extended acks carry the kernel's reason text ("native XDP not supported"); best effort.
        setsockopt(_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(int));
        var addr = new SockaddrNl { NlFamily = AF_NETLINK };
        if (Kernel.bind(_fd, &addr, (uint)sizeof(SockaddrNl)) != 0)
        {
            int errno = Kernel.Errno;
            close(_fd);
            throw new XdpException("bind(AF_NETLINK)", errno);
        }
        _seq = (uint)Environment.TickCount;
    }

    /// <summary>Reads one link's attributes (RTM_GETLINK by index).</summary>
    public LinkAttributes GetLink(int ifIndex)
    {
        Span<byte> request = stackalloc byte[64];
        int length = BeginLinkMessage(request, RTM_GETLINK, NLM_F_REQUEST, ifIndex);
        byte[] reply = Transact(request[..length], "netlink RTM_GETLINK", out int replyLength);
        return ParseLink(reply.AsSpan(0, replyLength));
    }

    /// <summary>Sets or clears (progFd = -1) the XDP program of a link (RTM_SETLINK with IFLA_XDP).</summary>
    public void SetXdp(int ifIndex, int progFd, uint flags, int expectedFd = -1)
    {
        Span<byte> request = stackalloc byte[96];
        int length = BeginLinkMessage(request, RTM_SETLINK, (ushort)(NLM_F_REQUEST | NLM_F_ACK), ifIndex);
        int nest = length;
        length += 4;
        length = PutAttribute(request, length, IFLA_XDP_FD, progFd);
        length = PutAttribute(request, length, IFLA_XDP_FLAGS, (int)flags);
        if (expectedFd >= 0)
            length = PutAttribute(request, length, IFLA_XDP_EXPECTED_FD, expectedFd);
        BinaryPrimitives.WriteUInt16LittleEndian(request[nest..], (ushort)(length - nest));
        BinaryPrimitives.WriteUInt16LittleEndian(request[(nest + 2)..], (ushort)(IFLA_XDP | NLA_F_NESTED));
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)length);
        Transact(request[..length], progFd < 0 ? "netlink RTM_SETLINK(IFLA_XDP detach)" : "netlink RTM_SETLINK(IFLA_XDP)", out _);
    }

    /// <summary>Sets a link's MAC and MTU and brings it up, in one RTM_NEWLINK.</summary>
    public void SetUp(int ifIndex, ReadOnlySpan<byte> mac, int mtu)
    {
        Span<byte> request = stackalloc byte[96];
        int length = BeginLinkMessage(request, RTM_NEWLINK, (ushort)(NLM_F_REQUEST | NLM_F_ACK), ifIndex);
        fixed (byte* p = request)
        {
            var info = (Ifinfomsg*)(p + sizeof(Nlmsghdr));
            info->IfiFlags = IFF_UP;
            info->IfiChange = IFF_UP;
        }
        length = PutAttribute(request, length, IFLA_ADDRESS, mac);
        length = PutAttribute(request, length, IFLA_MTU, mtu);
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)length);
        Transact(request[..length], "netlink RTM_NEWLINK(IFLA_ADDRESS, IFLA_MTU, IFF_UP)", out _);
    }

    /// <summary>Deletes a link (RTM_DELLINK by index).</summary>
    public void DeleteLink(int ifIndex)
    {
        Span<byte> request = stackalloc byte[64];
        int length = BeginLinkMessage(request, RTM_DELLINK, (ushort)(NLM_F_REQUEST | NLM_F_ACK), ifIndex);
        Transact(request[..length], "netlink RTM_DELLINK", out _);
    }

    /// <summary>Adds (<paramref name="add"/>) or removes an IPv4 (4 bytes) or IPv6 (16 bytes) address with its prefix length on a link; IPv6 ones skip duplicate address detection.</summary>
    public void ChangeAddress(int ifIndex, ReadOnlySpan<byte> address, int prefixLength, bool add)
    {
        if (address.Length is not (4 or 16))
            throw new ArgumentException("an IPv4 or IPv6 address", nameof(address));
        Span<byte> request = stackalloc byte[96];
        request.Clear();
        ushort flags = add ? (ushort)(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE) : (ushort)(NLM_F_REQUEST | NLM_F_ACK);
        fixed (byte* p = request)
        {
            var header = (Nlmsghdr*)p;
            header->NlmsgType = add ? RTM_NEWADDR : RTM_DELADDR;
            header->NlmsgFlags = flags;
            header->NlmsgSeq = ++_seq;
            var info = (Ifaddrmsg*)(p + sizeof(Nlmsghdr));
            info->IfaFamily = (byte)(address.Length == 4 ? AF_INET : AF_INET6);
            info->IfaPrefixlen = (byte)prefixLength;
            info->IfaScope = RT_SCOPE_UNIVERSE;
            info->IfaIndex = (uint)ifIndex;
        }
        int length = sizeof(Nlmsghdr) + sizeof(Ifaddrmsg);
        length = PutAttribute(request, length, IFA_LOCAL, address);
        length = PutAttribute(request, length, IFA_ADDRESS, address);
        // Without it a new IPv6 address stays tentative for a second or more, and the twin's daemons cannot bind it.
        if (add && address.Length == 16)
            length = PutAttribute(request, length, IFA_FLAGS, (int)IFA_F_NODAD);
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)length);
        Transact(request[..length], add ? "netlink RTM_NEWADDR" : "netlink RTM_DELADDR", out _);
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            close(_fd);
            _fd = -1;
        }
    }

    private int BeginLinkMessage(Span<byte> buffer, ushort type, ushort flags, int ifIndex)
    {
        buffer.Clear();
        fixed (byte* p = buffer)
        {
            var header = (Nlmsghdr*)p;
            header->NlmsgType = type;
            header->NlmsgFlags = flags;
            header->NlmsgSeq = ++_seq;
            var info = (Ifinfomsg*)(p + sizeof(Nlmsghdr));
            info->IfiFamily = AF_UNSPEC;
            info->IfiIndex = ifIndex;
        }
        int length = sizeof(Nlmsghdr) + sizeof(Ifinfomsg);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)length);
        return length;
    }

    private static int PutAttribute(Span<byte> buffer, int offset, ushort type, int value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[offset..], 8);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[(offset + 2)..], type);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[(offset + 4)..], value);
        return offset + 8;
    }

    private static int PutAttribute(Span<byte> buffer, int offset, ushort type, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[offset..], (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[(offset + 2)..], type);
        value.CopyTo(buffer[(offset + 4)..]);
        int end = offset + Align(4 + value.Length);
        buffer[(offset + 4 + value.Length)..end].Clear();
        return end;
    }

    private byte[] Transact(ReadOnlySpan<byte> request, string call, out int replyLength)
    {
        fixed (byte* p = request)
        {
            if (send(_fd, p, (nuint)request.Length, 0) < 0)
                throw XdpException.FromErrno(call);
        }
        uint seq = _seq;
        byte[] reply = new byte[ReceiveBufferSize];
        while (true)
        {
            nint n;
            fixed (byte* p = reply)
                n = recv(_fd, p, (nuint)reply.Length, 0);
            if (n < 0)
            {
                if (Kernel.Errno == EINTR)
                    continue;
                throw XdpException.FromErrno(call);
            }
            // Skip replies to earlier requests (none expected, but a stale one must not be taken as ours).
            if (n >= sizeof(Nlmsghdr) && BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(8)) != seq)
                continue;
            replyLength = (int)n;
            CheckError(reply.AsSpan(0, (int)n), call);
            return reply;
        }
    }

    internal static void CheckError(ReadOnlySpan<byte> reply, string call)
    {
        if (reply.Length < sizeof(Nlmsghdr) + sizeof(int))
            return;
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(reply[4..]);
        if (type != NLMSG_ERROR)
            return;
        int error = BinaryPrimitives.ReadInt32LittleEndian(reply[sizeof(Nlmsghdr)..]);
        if (error == 0)
            return;
        throw new XdpException(call, -error, ExtendedAckMessage(reply));
    }

    private static string? ExtendedAckMessage(ReadOnlySpan<byte> reply)
    {
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(reply[6..]);
        if ((flags & NLM_F_ACK_TLVS) == 0)
            return null;
        int offset = sizeof(Nlmsghdr) + sizeof(Nlmsgerr);
        if ((flags & NLM_F_CAPPED) == 0)
        {
            // Uncapped: the whole request is echoed before the TLVs, its nlmsghdr first.
            if (reply.Length < sizeof(Nlmsghdr) + sizeof(int) + sizeof(uint))
                return null;
            uint echoed = BinaryPrimitives.ReadUInt32LittleEndian(reply[(sizeof(Nlmsghdr) + sizeof(int))..]);
            // An echo longer than the reply leaves no room for TLVs (and past 2^31 would make the offset negative).
            if (echoed > (uint)reply.Length)
                return null;
            offset = sizeof(Nlmsghdr) + sizeof(int) + Align((int)echoed);
        }
        int end = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(reply), (uint)reply.Length);
        while (offset + 4 <= end)
        {
            ushort len = BinaryPrimitives.ReadUInt16LittleEndian(reply[offset..]);
            ushort attr = BinaryPrimitives.ReadUInt16LittleEndian(reply[(offset + 2)..]);
            if (len < 4 || offset + len > end)
                break;
            if (attr == NLMSGERR_ATTR_MSG)
                return Encoding.ASCII.GetString(reply.Slice(offset + 4, len - 4)).TrimEnd('\0');
            offset += Align(len);
        }
        return null;
    }

    internal static LinkAttributes ParseLink(ReadOnlySpan<byte> reply)
    {
        // Transact hands over whatever recv returned; a reply too short for the headers read below is refused, not read past.
        if (reply.Length < sizeof(Nlmsghdr) + sizeof(Ifinfomsg))
            throw new XdpException($"netlink RTM_GETLINK: a reply of {reply.Length} bytes is shorter than a link message");
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(reply[4..]);
        if (type != RTM_NEWLINK)
            throw new XdpException($"netlink RTM_GETLINK: unexpected reply type {type}");
        int end = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(reply), (uint)reply.Length);
        var link = new LinkAttributes
        {
            Index = BinaryPrimitives.ReadInt32LittleEndian(reply[(sizeof(Nlmsghdr) + 4)..]),
        };
        int offset = sizeof(Nlmsghdr) + sizeof(Ifinfomsg);
        while (offset + 4 <= end)
        {
            ushort len = BinaryPrimitives.ReadUInt16LittleEndian(reply[offset..]);
            ushort attr = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(reply[(offset + 2)..]) & 0x3fff);
            if (len < 4 || offset + len > end)
                break;
            ReadOnlySpan<byte> value = reply.Slice(offset + 4, len - 4);
            switch (attr)
            {
                case IFLA_IFNAME:
                    link.Name = Encoding.ASCII.GetString(value).TrimEnd('\0');
                    break;
                case IFLA_ADDRESS:
                    link.Address = value.ToArray();
                    break;
                case IFLA_MTU when value.Length >= 4:
                    link.Mtu = BinaryPrimitives.ReadInt32LittleEndian(value);
                    break;
                case IFLA_NUM_TX_QUEUES when value.Length >= 4:
                    link.NumTxQueues = BinaryPrimitives.ReadInt32LittleEndian(value);
                    break;
                case IFLA_NUM_RX_QUEUES when value.Length >= 4:
                    link.NumRxQueues = BinaryPrimitives.ReadInt32LittleEndian(value);
                    break;
                case IFLA_XDP:
                    ParseXdp(value, link);
                    break;
            }
            offset += Align(len);
        }
        return link;
    }

    private static void ParseXdp(ReadOnlySpan<byte> nested, LinkAttributes link)
    {
        int offset = 0;
        while (offset + 4 <= nested.Length)
        {
            ushort len = BinaryPrimitives.ReadUInt16LittleEndian(nested[offset..]);
            ushort attr = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(nested[(offset + 2)..]) & 0x3fff);
            if (len < 4 || offset + len > nested.Length)
                break;
            ReadOnlySpan<byte> value = nested.Slice(offset + 4, len - 4);
            switch (attr)
            {
                case IFLA_XDP_ATTACHED when value.Length >= 1:
                    link.XdpAttached = value[0];
                    break;
                case IFLA_XDP_PROG_ID when value.Length >= 4:
                    link.XdpProgramId = BinaryPrimitives.ReadUInt32LittleEndian(value);
                    break;
                case IFLA_XDP_DRV_PROG_ID when value.Length >= 4:
                    link.XdpDriverProgramId = BinaryPrimitives.ReadUInt32LittleEndian(value);
                    break;
                case IFLA_XDP_SKB_PROG_ID when value.Length >= 4:
                    link.XdpGenericProgramId = BinaryPrimitives.ReadUInt32LittleEndian(value);
                    break;
                case IFLA_XDP_HW_PROG_ID when value.Length >= 4:
                    link.XdpOffloadProgramId = BinaryPrimitives.ReadUInt32LittleEndian(value);
                    break;
            }
            offset += Align(len);
        }
    }

    private static int Align(int length) => (length + 3) & ~3;
}
