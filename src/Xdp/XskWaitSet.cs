using XdpStack.Xdp.Interop;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>Lets one thread sleep until any of several AF_XDP sockets (or TAP devices) has received frames, or another thread wakes it.</summary>
/// <remarks>
/// A worker that serves one queue on several devices has one socket per device; when all are idle it
/// sleeps in one poll(2) over every socket and an eventfd. Other threads that hand it work call
/// <see cref="Wake"/>, which writes the eventfd only while the worker said it is about to sleep, so a
/// busy worker costs its producers no syscall. The sleeping side follows the usual Dekker pattern:
/// announce the sleep (<see cref="PrepareToSleep"/>), look for work once more, then <see cref="Sleep"/>.
/// Not thread-safe except <see cref="Wake"/>, which any thread may call.
/// </remarks>
public sealed unsafe class XskWaitSet : IDisposable
{
    private readonly PollFd[] _fds;
    private readonly int _eventFd;
    private volatile int _sleeping;
    private bool _disposed;

    /// <summary>Watches <paramref name="sockets"/> for received frames (POLLIN), plus a wake-up eventfd of its own.</summary>
    public XskWaitSet(IReadOnlyList<XskSocket> sockets)
    {
        ArgumentNullException.ThrowIfNull(sockets);
        _eventFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (_eventFd < 0)
            throw XdpException.FromErrno("eventfd");
        _fds = new PollFd[sockets.Count + 1];
        _fds[0] = new PollFd { Fd = _eventFd, Events = POLLIN };
        for (int i = 0; i < sockets.Count; i++)
            _fds[i + 1] = new PollFd { Fd = sockets[i].Fd, Events = POLLIN };
    }

    private XskWaitSet(IEnumerable<int> fds)
    {
        _eventFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (_eventFd < 0)
            throw XdpException.FromErrno("eventfd");
        _fds = [new PollFd { Fd = _eventFd, Events = POLLIN }, .. fds.Select(fd => new PollFd { Fd = fd, Events = POLLIN })];
    }

    /// <summary>Watches TAP devices for frames the kernel sent (POLLIN) instead of sockets; the rest works the same.</summary>
    public static XskWaitSet ForTaps(IReadOnlyList<TapDevice> taps)
    {
        ArgumentNullException.ThrowIfNull(taps);
        return new XskWaitSet(taps.Select(t => t.Fd));
    }

    /// <summary>Announces that the owner is about to sleep; it must check for work once more before <see cref="Sleep"/>.</summary>
    public void PrepareToSleep()
    {
        _sleeping = 1;
        // The store above must be visible before the owner's last look for work reads the producers'
        // queues; a producer publishes its work and then reads the flag (the mirror image).
        Thread.MemoryBarrier();
    }

    /// <summary>Withdraws <see cref="PrepareToSleep"/> when the last look found work.</summary>
    public void CancelSleep() => _sleeping = 0;

    /// <summary>
    /// Sleeps up to <paramref name="timeoutMs"/> in poll(2) until a socket has frames or <see cref="Wake"/> is called,
    /// then clears the sleeping flag. Returns true when something is ready. Also serves a fill ring's need_wakeup.
    /// </summary>
    public bool Sleep(int timeoutMs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int rc;
        fixed (PollFd* fds = _fds)
            rc = poll(fds, (ulong)_fds.Length, timeoutMs);
        _sleeping = 0;
        if (rc < 0)
        {
            if (Kernel.Errno == EINTR)
                return false;
            throw XdpException.FromErrno("poll(AF_XDP sockets)");
        }
        if (rc > 0 && (_fds[0].Revents & POLLIN) != 0)
        {
            ulong drained;
            read(_eventFd, &drained, sizeof(ulong));
        }
        return rc > 0;
    }

    /// <summary>Wakes the owner if it sleeps or is about to; any thread may call it, after publishing its work.</summary>
    public void Wake()
    {
        // Pairs with PrepareToSleep: the caller's work is published before the flag is read.
        Thread.MemoryBarrier();
        if (_sleeping == 0 || _disposed)
            return;
        ulong one = 1;
        write(_eventFd, &one, sizeof(ulong));
    }

    /// <summary>Closes the eventfd; the sockets stay open.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        close(_eventFd);
    }
}
