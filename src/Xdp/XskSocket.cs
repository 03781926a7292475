using System.Runtime.CompilerServices;
using XdpStack.Xdp.Interop;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>An AF_XDP socket bound to one queue of one device, with its four rings over a <see cref="Umem"/>.</summary>
/// <remarks>
/// <para>Frames flow fill → RX (receive) and TX → completion (send); every ring holds UMEM offsets.
/// The first socket on a UMEM registers it and owns a fill/completion pair. A later socket on the
/// same UMEM binds with XDP_SHARED_UMEM: on another queue or device it gets its own fill/completion
/// pair; on the same device and queue it shares the first one's (the kernel's rule).</para>
/// <para>Not thread-safe: one worker owns a socket and its rings. The ring operations never make a
/// syscall; <see cref="WakeTx"/>, <see cref="WakeRx"/> and <see cref="Poll"/> do, so call them only
/// when a ring's NeedsWakeup flag says so, or to wait when idle.</para>
/// </remarks>
public sealed unsafe class XskSocket : IDisposable
{
    private static readonly int[] s_bindRetryDelaysMs = [10, 30, 90, 270];

    private int _fd;
    private RingMapping? _rxMap, _txMap, _fillMap, _completionMap;

    private XskSocket(int fd, NetDevice device, int queueId, Umem umem)
    {
        _fd = fd;
        Device = device;
        QueueId = queueId;
        Umem = umem;
    }

    /// <summary>The socket's file descriptor (what goes into an XSKMAP).</summary>
    public int Fd => _fd;

    /// <summary>The device the socket is bound to.</summary>
    public NetDevice Device { get; }

    /// <summary>The queue of <see cref="Device"/> the socket is bound to.</summary>
    public int QueueId { get; }

    /// <summary>The UMEM the rings refer to.</summary>
    public Umem Umem { get; }

    /// <summary>Received frames.</summary>
    public RxRing Rx { get; private set; } = null!;

    /// <summary>Frames to send.</summary>
    public TxRing Tx { get; private set; } = null!;

    /// <summary>Free frames for the kernel to receive into (shared with another socket on the same queue, if any).</summary>
    public FillRing Fill { get; private set; } = null!;

    /// <summary>Sent frames coming back (shared with another socket on the same queue, if any).</summary>
    public CompletionRing Completion { get; private set; } = null!;

    /// <summary>True when the driver moves frames without copying (XDP_OPTIONS_ZEROCOPY after bind).</summary>
    public bool ZeroCopy { get; private set; }

    /// <summary>True when this socket bound with XDP_SHARED_UMEM to a UMEM another socket registered.</summary>
    public bool SharedUmem { get; private set; }

    /// <summary>True when the socket has its own fill and completion rings (false when it shares a same-queue socket's).</summary>
    public bool OwnsFillAndCompletion { get; private set; }

    /// <summary>The sxdp_flags the socket was bound with.</summary>
    public int BindFlags { get; private set; }

    /// <summary>True when packets may span several descriptors (XDP_USE_SG, bound here or inherited from the UMEM's first socket).</summary>
    public bool MultiBuffer { get; private set; }

    /// <summary>True when busy polling was set up.</summary>
    public bool BusyPoll { get; private set; }

    /// <summary>True when the kernel sets XDP_RING_NEED_WAKEUP for this socket: bound with XDP_USE_NEED_WAKEUP, or sharing the UMEM of a socket that was.</summary>
    public bool NeedWakeup { get; private set; }

    /// <summary>Creates, sets up and binds a socket on queue <paramref name="queueId"/> of <paramref name="device"/>.</summary>
    /// <exception cref="XdpException">A kernel call failed; EBUSY on bind after retries means the queue is taken.</exception>
    public static XskSocket Create(NetDevice device, int queueId, Umem umem, XskSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(umem);
        umem.ThrowIfDisposed();
        options ??= new XskSocketOptions();
        if (queueId < 0 || queueId >= device.QueueCount)
            throw new ArgumentOutOfRangeException(nameof(queueId), queueId, $"{device.Name} has {device.QueueCount} queue(s)");

        int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw XdpException.FromErrno("socket(AF_XDP)", "AF_XDP sockets need CAP_NET_RAW and a kernel built with CONFIG_XDP_SOCKETS");
        var xsk = new XskSocket(fd, device, queueId, umem);
        try
        {
            xsk.Setup(options);
        }
        catch
        {
            xsk.Dispose();
            throw;
        }
        return xsk;
    }

    /// <summary>Reads the kernel's counters for this socket (XDP_STATISTICS).</summary>
    public XdpStatistics GetStatistics()
    {
        ThrowIfDisposed();
        var raw = default(XdpStatisticsRaw);
        uint length = (uint)sizeof(XdpStatisticsRaw);
        if (getsockopt(_fd, SOL_XDP, XDP_STATISTICS, &raw, &length) != 0)
            throw XdpException.FromErrno("getsockopt(XDP_STATISTICS)");
        return new XdpStatistics(raw.RxDropped, raw.RxInvalidDescs, raw.TxInvalidDescs,
            raw.RxRingFull, raw.RxFillRingEmptyDescs, raw.TxRingEmptyDescs);
    }

    /// <summary>Kicks the kernel to process the TX ring (sendto with MSG_DONTWAIT).</summary>
    /// <remarks>
    /// Call when <see cref="TxRing.NeedsWakeup"/> is set. EAGAIN, EBUSY, ENOBUFS and ENETDOWN mean
    /// "try again later" (copy mode sends at most 32 frames per call) and are not errors; nor is ENXIO, a device
    /// that was deleted under the socket.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WakeTx()
    {
        if (sendto(_fd, null, 0, MSG_DONTWAIT, null, 0) < 0)
            CheckWakeError("sendto(AF_XDP)");
    }

    /// <summary>Kicks the kernel to process the fill ring (recvfrom with MSG_DONTWAIT), for busy polling.</summary>
    public void WakeRx()
    {
        if (recvfrom(_fd, null, 0, MSG_DONTWAIT, null, null) < 0)
            CheckWakeError("recvfrom(AF_XDP)");
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> (−1: forever) for received frames; true when the RX ring has some.</summary>
    /// <remarks>Also the wakeup for a fill ring that needs one. An interrupted wait returns false.</remarks>
    public bool Poll(int timeoutMs)
    {
        var pfd = new PollFd { Fd = _fd, Events = POLLIN };
        int rc = poll(&pfd, 1, timeoutMs);
        if (rc < 0)
        {
            if (Kernel.Errno == EINTR)
                return false;
            throw XdpException.FromErrno("poll(AF_XDP)");
        }
        return rc > 0 && (pfd.Revents & POLLIN) != 0;
    }

    /// <summary>Closes the socket (which also removes it from any XSKMAP) and unmaps its rings.</summary>
    /// <remarks>Frames in this socket's rings at that moment are not returned to the pool.</remarks>
    public void Dispose()
    {
        if (_fd < 0)
            return;
        _rxMap?.Release();
        _txMap?.Release();
        _fillMap?.Release();
        _completionMap?.Release();
        _rxMap = _txMap = _fillMap = _completionMap = null;
        close(_fd);
        _fd = -1;
        Umem.Remove(this);
    }

    public override string ToString() =>
        $"xsk {Device.Name}:{QueueId} ({(ZeroCopy ? "zero-copy" : "copy")}{(SharedUmem ? ", shared UMEM" : "")})";

    private void Setup(XskSocketOptions options)
    {
        XskSocket? sameQueue = null, shareWith = null;
        foreach (XskSocket other in Umem.Sockets)
        {
            shareWith ??= other;
            if (other.Device.IfIndex == Device.IfIndex && other.QueueId == QueueId)
            {
                sameQueue = other;
                shareWith = other;
                break;
            }
        }
        SharedUmem = shareWith is not null;
        OwnsFillAndCompletion = sameQueue is null;

        if (shareWith is null)
            Umem.Register(_fd);
        if (OwnsFillAndCompletion)
        {
            SetRingSize(XDP_UMEM_FILL_RING, options.FillRingSize, "XDP_UMEM_FILL_RING");
            SetRingSize(XDP_UMEM_COMPLETION_RING, options.CompletionRingSize, "XDP_UMEM_COMPLETION_RING");
        }
        SetRingSize(XDP_RX_RING, options.RxRingSize, "XDP_RX_RING");
        SetRingSize(XDP_TX_RING, options.TxRingSize, "XDP_TX_RING");

        XdpMmapOffsets offsets = GetOffsets();
        _rxMap = RingMapping.Map(_fd, XDP_PGOFF_RX_RING, offsets.Rx, (uint)options.RxRingSize, sizeof(XdpDescriptor), "RX");
        Rx = new RxRing(_rxMap.Producer, _rxMap.Consumer, (XdpDescriptor*)_rxMap.Descriptors, (uint)options.RxRingSize);
        _txMap = RingMapping.Map(_fd, XDP_PGOFF_TX_RING, offsets.Tx, (uint)options.TxRingSize, sizeof(XdpDescriptor), "TX");
        Tx = new TxRing(_txMap.Producer, _txMap.Consumer, _txMap.Flags, (XdpDescriptor*)_txMap.Descriptors, (uint)options.TxRingSize);

        uint prefillIndex = 0;
        int prefilled = 0;
        if (sameQueue is null)
        {
            _fillMap = RingMapping.Map(_fd, XDP_UMEM_PGOFF_FILL_RING, offsets.Fr, (uint)options.FillRingSize, sizeof(ulong), "fill");
            Fill = new FillRing(_fillMap.Producer, _fillMap.Consumer, _fillMap.Flags, (ulong*)_fillMap.Descriptors, (uint)options.FillRingSize);
            _completionMap = RingMapping.Map(_fd, XDP_UMEM_PGOFF_COMPLETION_RING, offsets.Cr, (uint)options.CompletionRingSize, sizeof(ulong), "completion");
            Completion = new CompletionRing(_completionMap.Producer, _completionMap.Consumer, (ulong*)_completionMap.Descriptors, (uint)options.CompletionRingSize);

            int want = options.PrefillFrames < 0 ? options.FillRingSize : Math.Min(options.PrefillFrames, options.FillRingSize);
            prefilled = Fill.Reserve(Math.Min(want, Umem.Frames.Available), out prefillIndex);
            for (int i = 0; i < prefilled; i++)
            {
                Umem.Frames.TryGet(out ulong address);
                Fill[prefillIndex + (uint)i] = address;
            }
            Fill.Submit(prefilled);
        }
        else
        {
            // Same device and queue: the kernel feeds both sockets from the first one's fill ring.
            _fillMap = sameQueue._fillMap!.AddReference();
            _completionMap = sameQueue._completionMap!.AddReference();
            Fill = sameQueue.Fill;
            Completion = sameQueue.Completion;
        }

        try
        {
            Bind(options, shareWith);
        }
        catch
        {
            // The kernel never saw these frames: give them back.
            for (int i = 0; i < prefilled; i++)
                Umem.Frames.Put(Fill[prefillIndex + (uint)i]);
            throw;
        }

        var xdpOptions = default(XdpOptions);
        uint length = (uint)sizeof(XdpOptions);
        if (getsockopt(_fd, SOL_XDP, XDP_OPTIONS, &xdpOptions, &length) != 0)
            throw XdpException.FromErrno("getsockopt(XDP_OPTIONS)");
        ZeroCopy = (xdpOptions.Flags & XDP_OPTIONS_ZEROCOPY) != 0;
        MultiBuffer = shareWith?.MultiBuffer ?? options.MultiBuffer;

        if (options.BusyPoll)
        {
            SetSocketOption(SO_PREFER_BUSY_POLL, 1, "SO_PREFER_BUSY_POLL");
            SetSocketOption(SO_BUSY_POLL, options.BusyPollMicroseconds, "SO_BUSY_POLL");
            SetSocketOption(SO_BUSY_POLL_BUDGET, options.BusyPollBudget, "SO_BUSY_POLL_BUDGET");
            BusyPoll = true;
        }
        Umem.Add(this);
    }

    private void Bind(XskSocketOptions options, XskSocket? shareWith)
    {
        var address = new SockaddrXdp
        {
            SxdpFamily = AF_XDP,
            SxdpIfindex = (uint)Device.IfIndex,
            SxdpQueueId = (uint)QueueId,
        };
        if (shareWith is not null)
        {
            // XDP_SHARED_UMEM takes no other flag (EINVAL): mode and need_wakeup come from the UMEM's first socket.
            address.SxdpFlags = XDP_SHARED_UMEM;
            address.SxdpSharedUmemFd = (uint)shareWith.Fd;
        }
        else
        {
            ushort flags = options.Mode switch
            {
                XskBindMode.Copy => XDP_COPY,
                XskBindMode.ZeroCopy => XDP_ZEROCOPY,
                _ => 0,     // the kernel tries zero-copy and falls back to copy by itself
            };
            if (options.NeedWakeup)
                flags |= XDP_USE_NEED_WAKEUP;
            if (options.MultiBuffer)
                flags |= XDP_USE_SG;
            address.SxdpFlags = flags;
        }
        BindFlags = address.SxdpFlags;
        NeedWakeup = shareWith?.NeedWakeup ?? (address.SxdpFlags & XDP_USE_NEED_WAKEUP) != 0;

        string call = $"bind(AF_XDP, {Device.Name} queue {QueueId})";
        for (int attempt = 0; ; attempt++)
        {
            if (Kernel.bind(_fd, &address, (uint)sizeof(SockaddrXdp)) == 0)
                return;
            int errno = Kernel.Errno;
            // Socket teardown is asynchronous: a queue freed a moment ago may still read as busy.
            if (errno == EBUSY && attempt < s_bindRetryDelaysMs.Length)
            {
                Thread.Sleep(s_bindRetryDelaysMs[attempt]);
                continue;
            }
            throw new XdpException(call, errno, BindHint(errno, options.Mode));
        }
    }

    private string? BindHint(int errno, XskBindMode mode) => errno switch
    {
        EBUSY => $"queue {QueueId} of {Device.Name} is in use by another AF_XDP socket or program (still busy after {s_bindRetryDelaysMs.Length} retries)",
        EOPNOTSUPP when (BindFlags & XDP_USE_SG) != 0 => $"{Device.Name}'s driver cannot do multi-buffer AF_XDP in this mode (XDP_USE_SG needs kernel 6.6+, and driver support for zero-copy); lower the MTU to fit one frame or use copy mode",
        EOPNOTSUPP when mode == XskBindMode.ZeroCopy => $"{Device.Name} does not support zero-copy AF_XDP; use copy mode",
        EINVAL => $"check that queue {QueueId} exists on {Device.Name} (it has {Device.QueueCount}) and the ring sizes are powers of two",
        ENETDOWN => $"{Device.Name} is down",
        _ => null,
    };

    private void SetRingSize(int option, int entries, string name)
    {
        if (entries <= 0 || (entries & (entries - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(entries), entries, $"{name} size must be a power of two");
        if (setsockopt(_fd, SOL_XDP, option, &entries, sizeof(int)) != 0)
            throw XdpException.FromErrno($"setsockopt({name})");
    }

    private void SetSocketOption(int option, int value, string name)
    {
        if (setsockopt(_fd, SOL_SOCKET, option, &value, sizeof(int)) != 0)
            throw XdpException.FromErrno($"setsockopt({name})");
    }

    private XdpMmapOffsets GetOffsets()
    {
        var offsets = default(XdpMmapOffsets);
        uint length = (uint)sizeof(XdpMmapOffsets);
        if (getsockopt(_fd, SOL_XDP, XDP_MMAP_OFFSETS, &offsets, &length) != 0)
            throw XdpException.FromErrno("getsockopt(XDP_MMAP_OFFSETS)");
        if (length == sizeof(XdpMmapOffsets))
            return offsets;
        if (length != 4 * sizeof(XdpRingOffsetV1))
            throw new XdpException($"getsockopt(XDP_MMAP_OFFSETS) returned {length} bytes, expected {sizeof(XdpMmapOffsets)}");
        // Kernels up to 5.3 have no flags word; it sits just after the consumer (libxdp xsk_mmap_offsets_v1).
        var v1 = (XdpRingOffsetV1*)&offsets;
        return new XdpMmapOffsets
        {
            Rx = FromV1(v1[0]),
            Tx = FromV1(v1[1]),
            Fr = FromV1(v1[2]),
            Cr = FromV1(v1[3]),
        };

        static XdpRingOffset FromV1(XdpRingOffsetV1 o) =>
            new() { Producer = o.Producer, Consumer = o.Consumer, Desc = o.Desc, Flags = o.Consumer + sizeof(uint) };
    }

    private static void CheckWakeError(string call)
    {
        int errno = Kernel.Errno;
        if (errno is EAGAIN or EBUSY or ENOBUFS or ENETDOWN or EINTR)
            return;
        // The device was deleted and the kernel unbound the socket: nothing will move on it again, and the owner
        // learns of the deletion from netlink; a worker serving other devices must not die of it.
        if (errno == ENXIO)
            return;
        throw new XdpException(call, errno);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_fd < 0, this);
}
