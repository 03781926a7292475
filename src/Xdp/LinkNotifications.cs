using System.Buffers.Binary;
using XdpStack.Xdp.Interop;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>One link's administrative and operational state, as an RTM_NEWLINK or RTM_DELLINK message tells it.</summary>
/// <param name="IfIndex">The kernel's interface index.</param>
/// <param name="AdminUp">IFF_UP: the administrator set the link up.</param>
/// <param name="Running">IFF_RUNNING: the link is operationally up (carrier, and for a veth a peer that is up).</param>
/// <param name="Deleted">The link was removed (RTM_DELLINK).</param>
public readonly record struct LinkState(int IfIndex, bool AdminUp, bool Running, bool Deleted)
{
    /// <summary>True when frames can flow: administratively and operationally up, and not deleted.</summary>
    public bool CanForward => AdminUp && Running && !Deleted;
}

/// <summary>A NETLINK_ROUTE socket subscribed to link changes (RTMGRP_LINK) of the namespace of the thread that creates it.</summary>
/// <remarks>
/// The kernel announces every change of a link's flags and every deletion to the group; <see cref="RequestDump"/>
/// asks for the current state of all links through the same socket, so a reader that starts with a dump misses no
/// change. When the socket's buffer overflowed (ENOBUFS) some notifications are lost: <see cref="Read"/> then dumps
/// again by itself.
/// </remarks>
public sealed unsafe class LinkNotifications : IDisposable
{
    private const int ReceiveBufferSize = 256 * 1024;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _fd;
    private uint _seq;

    /// <summary>Opens the socket and joins the link group.</summary>
    public LinkNotifications()
    {
        _fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (_fd < 0)
            throw XdpException.FromErrno("socket(AF_NETLINK, NETLINK_ROUTE)");
        int size = ReceiveBufferSize;
        setsockopt(_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(int));
        var addr = new SockaddrNl { NlFamily = AF_NETLINK, NlGroups = RTMGRP_LINK };
        if (Kernel.bind(_fd, &addr, (uint)sizeof(SockaddrNl)) != 0)
        {
            int errno = Kernel.Errno;
            close(_fd);
            throw new XdpException("bind(AF_NETLINK, RTMGRP_LINK)", errno);
        }
        _seq = (uint)Environment.TickCount;
    }

    /// <summary>Asks the kernel for the state of every link; the answers arrive through <see cref="Read"/> like notifications.</summary>
    public void RequestDump()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        Span<byte> request = stackalloc byte[32];
        request.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request, 32);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], RTM_GETLINK);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], (ushort)(NLM_F_REQUEST | NLM_F_DUMP));
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], ++_seq);
        request[16] = (byte)AF_UNSPEC;
        fixed (byte* p = request)
        {
            var kernel = new SockaddrNl { NlFamily = AF_NETLINK };
            if (sendto(_fd, p, (nuint)request.Length, 0, &kernel, (uint)sizeof(SockaddrNl)) < 0)
                throw XdpException.FromErrno("sendto(netlink RTM_GETLINK dump)");
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for messages and appends the link states they carry; returns how many were added.</summary>
    public int Read(int timeoutMs, List<LinkState> into)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var pfd = new PollFd { Fd = _fd, Events = POLLIN };
        int ready = poll(&pfd, 1, timeoutMs);
        if (ready < 0)
        {
            if (Kernel.Errno == EINTR)
                return 0;
            throw XdpException.FromErrno("poll(netlink)");
        }
        if (ready == 0)
            return 0;
        nint n;
        fixed (byte* p = _buffer)
            n = recv(_fd, p, (nuint)_buffer.Length, MSG_DONTWAIT);
        if (n < 0)
        {
            int errno = Kernel.Errno;
            if (errno is EAGAIN or EINTR)
                return 0;
            if (errno == ENOBUFS)
            {
                // Notifications were lost: the only way to know the state again is to ask for all of it.
                RequestDump();
                return 0;
            }
            throw new XdpException("recv(netlink)", errno);
        }
        return Parse(_buffer.AsSpan(0, (int)n), into);
    }

    /// <summary>Appends the link states of the RTM_NEWLINK and RTM_DELLINK messages in <paramref name="messages"/>; skips anything else or malformed, never throws.</summary>
    public static int Parse(ReadOnlySpan<byte> messages, List<LinkState> into)
    {
        const int HeaderLength = 16;
        const int IfinfomsgLength = 16;
        int added = 0;
        while (messages.Length >= HeaderLength)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(messages);
            if (length < HeaderLength || length > (uint)messages.Length)
                break;
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(messages[4..]);
            ReadOnlySpan<byte> body = messages[HeaderLength..(int)length];
            if ((type == RTM_NEWLINK || type == RTM_DELLINK) && body.Length >= IfinfomsgLength)
            {
                int index = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
                uint flags = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
                into.Add(new LinkState(index, (flags & IFF_UP) != 0, (flags & IFF_RUNNING) != 0, type == RTM_DELLINK));
                added++;
            }
            int next = (int)((length + 3) & ~3u);
            if (next >= messages.Length)
                break;
            messages = messages[next..];
        }
        return added;
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose()
    {
        if (_fd < 0)
            return;
        close(_fd);
        _fd = -1;
    }
}
