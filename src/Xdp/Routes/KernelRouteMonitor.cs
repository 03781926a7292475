using System.Buffers.Binary;
using XdpStack.Xdp.Interop;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp.Routes;

/// <summary>Follows the kernel's IPv4 and IPv6 FIB: a dump of every route (RTM_GETROUTE), then RTM_NEWROUTE and RTM_DELROUTE notifications as they happen.</summary>
/// <remarks>
/// <para>
/// Subscribe first, dump second: a route that changes while the dump runs then shows up in the dump, in a
/// notification, or both, and a notification read after the dump is newer than it, so applying both in that order ends
/// in the kernel's state. When the notification socket overflows (<see cref="KernelRouteReceiveResult.Overrun"/>)
/// notifications were lost and only a fresh <see cref="Dump"/> can tell what changed.
/// </para>
/// <para>
/// The sockets belong to the network namespace of the thread that creates the monitor. One thread uses a monitor;
/// nothing here is shared. Parsing never throws (malformed messages are counted in <see cref="Counters"/>); a failing
/// syscall throws <see cref="XdpException"/>.
/// </para>
/// </remarks>
public sealed unsafe class KernelRouteMonitor : IDisposable
{
    /// <summary>The notification socket's receive buffer: room for tens of thousands of notifications, so a routing daemon's burst rarely overruns it.</summary>
    public const int DefaultReceiveBufferBytes = 32 << 20;

    // The kernel sizes dump datagrams to at most 32 KiB; notifications are far smaller.
    private const int DatagramBytes = 64 << 10;
    private const int MSG_TRUNC = 0x20;
    private const int MaxDumpAttempts = 5;

    private readonly bool _ipv4, _ipv6;
    private readonly byte[] _buffer = new byte[DatagramBytes];
    private int _fd;
    private uint _seq;

    /// <summary>Opens the notification socket, subscribed to the route groups of the families asked for.</summary>
    public KernelRouteMonitor(bool ipv4, bool ipv6, int receiveBufferBytes = DefaultReceiveBufferBytes)
    {
        if (!ipv4 && !ipv6)
            throw new ArgumentException("follow at least one family");
        _ipv4 = ipv4;
        _ipv6 = ipv6;
        _fd = OpenSocket("socket(AF_NETLINK, NETLINK_ROUTE) for route notifications");
        try
        {
            if (ipv4)
                Join(RTNLGRP_IPV4_ROUTE, "setsockopt(NETLINK_ADD_MEMBERSHIP, RTNLGRP_IPV4_ROUTE)");
            if (ipv6)
                Join(RTNLGRP_IPV6_ROUTE, "setsockopt(NETLINK_ADD_MEMBERSHIP, RTNLGRP_IPV6_ROUTE)");
            // SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN; without it SO_RCVBUF gets what rmem_max allows.
            int bytes = receiveBufferBytes;
            if (setsockopt(_fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(int)) != 0)
                setsockopt(_fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(int));
        }
        catch
        {
            close(_fd);
            throw;
        }
        _seq = (uint)Environment.TickCount;
    }

    /// <summary>What was read and skipped so far.</summary>
    public KernelRouteCounters Counters { get; } = new();

    /// <summary>Reads every route of the followed families into <paramref name="routes"/> (cleared first), as <see cref="KernelRouteChangeKind.Add"/> changes.</summary>
    /// <remarks>A dump the kernel marks interrupted (NLM_F_DUMP_INTR: the FIB changed under it) is retried a few times; the last attempt is kept, and the notifications that follow it repair what it missed.</remarks>
    public void Dump(List<KernelRouteChange> routes)
    {
        int fd = OpenSocket("socket(AF_NETLINK, NETLINK_ROUTE) for a route dump");
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                routes.Clear();
                Counters.Dumps++;
                bool consistent = true;
                if (_ipv4)
                    consistent &= DumpFamily(fd, AF_INET, routes);
                if (_ipv6)
                    consistent &= DumpFamily(fd, AF_INET6, routes);
                if (consistent || attempt == MaxDumpAttempts)
                    return;
            }
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for notifications, then reads what is queued (up to <paramref name="maxDatagrams"/> datagrams) into <paramref name="changes"/>.</summary>
    public KernelRouteReceiveResult Receive(List<KernelRouteChange> changes, int timeoutMilliseconds, int maxDatagrams = 256)
    {
        var pfd = new PollFd { Fd = _fd, Events = POLLIN };
        int ready = poll(&pfd, 1, timeoutMilliseconds);
        if (ready < 0)
        {
            if (Kernel.Errno == EINTR)
                return KernelRouteReceiveResult.Timeout;
            throw XdpException.FromErrno("poll(route notifications)");
        }
        if (ready == 0)
            return KernelRouteReceiveResult.Timeout;
        for (int i = 0; i < maxDatagrams; i++)
        {
            nint n;
            fixed (byte* p = _buffer)
                n = recv(_fd, p, (nuint)_buffer.Length, MSG_DONTWAIT | MSG_TRUNC);
            if (n < 0)
            {
                int errno = Kernel.Errno;
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN)
                    break;
                if (errno == ENOBUFS)
                {
                    Counters.Overruns++;
                    return KernelRouteReceiveResult.Overrun;
                }
                throw new XdpException("recv(route notifications)", errno);
            }
            if (n > _buffer.Length)
            {
                // MSG_TRUNC reports the datagram's real length: the part that did not fit is lost, like an overrun.
                Counters.Overruns++;
                return KernelRouteReceiveResult.Overrun;
            }
            Read(_buffer.AsSpan(0, (int)n), changes, Counters);
        }
        return KernelRouteReceiveResult.Received;
    }

    /// <summary>Throws away every queued notification: before a dump that follows an overrun, so that no notification older than the dump is applied after it.</summary>
    public void DiscardQueued()
    {
        while (true)
        {
            nint n;
            fixed (byte* p = _buffer)
                n = recv(_fd, p, (nuint)_buffer.Length, MSG_DONTWAIT | MSG_TRUNC);
            if (n >= 0)
                continue;
            int errno = Kernel.Errno;
            // ENOBUFS reports the overrun once; the queue after it is still to be emptied.
            if (errno is EINTR or ENOBUFS)
                continue;
            if (errno == EAGAIN)
                return;
            throw new XdpException("recv(route notifications)", errno);
        }
    }

    /// <summary>Adds every IPv4 and IPv6 route message of one datagram to <paramref name="changes"/>; counts the rest. Never throws.</summary>
    /// <returns>The flags of the datagram's control messages: whether NLMSG_DONE ended a dump, whether NLM_F_DUMP_INTR was set, and the error of an NLMSG_ERROR (0 when none).</returns>
    public static (bool Done, bool Interrupted, int Error) Read(ReadOnlySpan<byte> datagram, List<KernelRouteChange> changes, KernelRouteCounters counters)
    {
        bool done = false, interrupted = false;
        int error = 0;
        while (KernelRouteParser.NextMessage(ref datagram, out ReadOnlySpan<byte> message))
        {
            ushort type = KernelRouteParser.TypeOf(message);
            interrupted |= (KernelRouteParser.FlagsOf(message) & NLM_F_DUMP_INTR) != 0;
            switch (type)
            {
                case NLMSG_DONE:
                    done = true;
                    continue;
                case NLMSG_ERROR:
                    error = message.Length >= 20 ? -BinaryPrimitives.ReadInt32LittleEndian(message[16..]) : 0;
                    done = true;
                    continue;
                case NLMSG_NOOP or NLMSG_OVERRUN:
                    continue;
            }
            switch (KernelRouteParser.TryParse(message, out KernelRouteChange change))
            {
                case KernelRouteParser.Result.Route:
                    counters.Messages++;
                    changes.Add(change);
                    break;
                case KernelRouteParser.Result.Other:
                    counters.OtherFamily++;
                    break;
                default:
                    counters.Malformed++;
                    break;
            }
        }
        // Whatever could not be framed is one malformed datagram tail.
        if (!datagram.IsEmpty)
            counters.Malformed++;
        return (done, interrupted, error);
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            close(_fd);
            _fd = -1;
        }
    }

    private bool DumpFamily(int fd, byte family, List<KernelRouteChange> routes)
    {
        byte* request = stackalloc byte[28];
        new Span<byte>(request, 28).Clear();
        uint seq = ++_seq;
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(request, 4), 28);
        BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(request + 4, 2), RTM_GETROUTE);
        BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(request + 6, 2), NLM_F_REQUEST | NLM_F_DUMP);
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(request + 8, 4), seq);
        request[16] = family;
        if (send(fd, request, 28, 0) < 0)
            throw XdpException.FromErrno("netlink RTM_GETROUTE dump");
        bool interrupted = false;
        while (true)
        {
            nint n;
            fixed (byte* p = _buffer)
                n = recv(fd, p, (nuint)_buffer.Length, MSG_TRUNC);
            if (n < 0)
            {
                if (Kernel.Errno == EINTR)
                    continue;
                throw XdpException.FromErrno("recv(netlink RTM_GETROUTE dump)");
            }
            if (n > _buffer.Length)
            {
                Counters.Malformed++;
                n = _buffer.Length;
                interrupted = true;
            }
            ReadOnlySpan<byte> datagram = _buffer.AsSpan(0, (int)n);
            // Replies to another request (none expected on a socket of our own) are not ours to read.
            if (datagram.Length >= 12 && BinaryPrimitives.ReadUInt32LittleEndian(datagram[8..]) != seq)
                continue;
            (bool done, bool dumpInterrupted, int error) = Read(datagram, routes, Counters);
            interrupted |= dumpInterrupted;
            if (error != 0)
                throw new XdpException("netlink RTM_GETROUTE dump", error);
            if (done || n == 0)
                return !interrupted;
        }
    }

    private int OpenSocket(string call)
    {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
            throw XdpException.FromErrno(call);
        var addr = new SockaddrNl { NlFamily = AF_NETLINK };
        if (Kernel.bind(fd, &addr, (uint)sizeof(SockaddrNl)) != 0)
        {
            int errno = Kernel.Errno;
            close(fd);
            throw new XdpException("bind(AF_NETLINK)", errno);
        }
        return fd;
    }

    private void Join(int group, string call)
    {
        if (setsockopt(_fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(int)) != 0)
            throw XdpException.FromErrno(call);
    }
}
