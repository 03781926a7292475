using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using XdpStack.Xdp.Interop;
using static XdpStack.Xdp.Interop.Kernel;

namespace XdpStack.Xdp;

/// <summary>The packet memory shared with the kernel: page-aligned frames that every ring refers to by offset.</summary>
/// <remarks>
/// The area is mapped here; it is registered with the kernel (XDP_UMEM_REG) by the first
/// <see cref="XskSocket"/> created on it, and later sockets share it (XDP_SHARED_UMEM).
/// Disposing the UMEM disposes its sockets first, then unmaps the area. Not thread-safe.
/// </remarks>
public sealed unsafe class Umem : IDisposable
{
    private const ulong HugePageSize = 2 * 1024 * 1024;

    private readonly List<XskSocket> _sockets = [];
    private byte* _base;
    private readonly nuint _mappedLength;

    /// <summary>Maps a UMEM of <c>options.FrameCount</c> frames.</summary>
    public Umem(UmemOptions? options = null)
    {
        options ??= new UmemOptions();
        if (options.FrameSize is not (2048 or 4096))
            throw new ArgumentOutOfRangeException(nameof(options), options.FrameSize, "FrameSize must be 2048 or 4096");
        if (options.FrameCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.FrameCount, "FrameCount must be positive");
        if (options.ReservedFrames < 0 || options.ReservedFrames >= options.FrameCount)
            throw new ArgumentOutOfRangeException(nameof(options), options.ReservedFrames, "ReservedFrames must leave at least one frame for the pool");
        if (options.Headroom < 0 || options.Headroom >= options.FrameSize - XDP_PACKET_HEADROOM)
            throw new ArgumentOutOfRangeException(nameof(options), options.Headroom,
                $"Headroom must be below FrameSize - {XDP_PACKET_HEADROOM}");

        FrameSize = options.FrameSize;
        FrameCount = options.FrameCount;
        Headroom = options.Headroom;
        Size = (ulong)FrameSize * (ulong)FrameCount;
        HugePagesRequested = options.HugePages;

        void* area = MAP_FAILED;
        if (options.HugePages)
        {
            nuint hugeLength = (nuint)((Size + HugePageSize - 1) & ~(HugePageSize - 1));
            area = mmap(null, hugeLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
            if (area != MAP_FAILED)
            {
                _mappedLength = hugeLength;
                UsesHugePages = true;
            }
            else
            {
                int errno = Kernel.Errno;
                HugePagesFallbackReason = $"mmap(MAP_HUGETLB) failed: {Interop.Errno.Name(errno)} ({Interop.Errno.Describe(errno)}); " +
                    "using normal pages (reserve huge pages with vm.nr_hugepages)";
            }
        }
        if (area == MAP_FAILED)
        {
            nuint length = (nuint)((Size + (ulong)Environment.SystemPageSize - 1) & ~((ulong)Environment.SystemPageSize - 1));
            area = mmap(null, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
            if (area == MAP_FAILED)
                throw XdpException.FromErrno($"mmap(UMEM, {length} bytes)");
            _mappedLength = length;
        }
        _base = (byte*)area;
        ReservedFrames = options.ReservedFrames;
        // The pool covers the frames below the reserved ones, so a reserved frame can never be put into a ring by mistake.
        Frames = new FramePool(FrameCount - ReservedFrames, FrameSize);
    }

    private static void* MAP_FAILED => (void*)-1;

    /// <summary>The start of the area (page-aligned).</summary>
    public byte* Base => _base;

    /// <summary>Bytes in the area: FrameSize × FrameCount.</summary>
    public ulong Size { get; }

    /// <summary>Bytes per frame.</summary>
    public int FrameSize { get; }

    /// <summary>Number of frames.</summary>
    public int FrameCount { get; }

    /// <summary>Frames at the end of the area that the pool never hands out (<see cref="UmemOptions.ReservedFrames"/>).</summary>
    public int ReservedFrames { get; }

    /// <summary>UMEM offset of the first reserved frame; equal to <see cref="Size"/> when none is reserved.</summary>
    public ulong ReservedStart => (ulong)(FrameCount - ReservedFrames) * (ulong)FrameSize;

    /// <summary>The headroom asked of the kernel in front of each received frame (beyond XDP_PACKET_HEADROOM).</summary>
    public int Headroom { get; }

    /// <summary>True when huge pages were asked for.</summary>
    public bool HugePagesRequested { get; }

    /// <summary>True when the area really is backed by huge pages.</summary>
    public bool UsesHugePages { get; }

    /// <summary>Why huge pages were asked for and not used; null otherwise.</summary>
    public string? HugePagesFallbackReason { get; }

    /// <summary>The free frames; sockets prefill their fill rings from it.</summary>
    public FramePool Frames { get; }

    /// <summary>True once a socket has registered the area with the kernel and is still open.</summary>
    public bool IsRegistered => _sockets.Count > 0;

    /// <summary>The sockets open on this UMEM.</summary>
    public IReadOnlyList<XskSocket> Sockets => _sockets;

    /// <summary>The bytes of a frame: <paramref name="length"/> bytes from <paramref name="address"/> (a UMEM offset).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetFrame(ulong address, int length)
    {
        if (address + (ulong)(uint)length > Size || _base == null)
            ThrowOutOfRange(address, length);
        return new Span<byte>(_base + address, length);
    }

    /// <summary>The bytes a descriptor points at.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetFrame(in XdpDescriptor descriptor) => GetFrame(descriptor.Address, (int)descriptor.Length);

    /// <summary>The start of the frame that holds <paramref name="address"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong FrameStart(ulong address) => address & ~(ulong)(FrameSize - 1);

    /// <summary>Disposes every socket on this UMEM, then unmaps it.</summary>
    public void Dispose()
    {
        // Sockets unregister themselves from _sockets as they close.
        for (int i = _sockets.Count - 1; i >= 0; i--)
            _sockets[i].Dispose();
        if (_base != null)
        {
            munmap(_base, _mappedLength);
            _base = null;
        }
    }

    internal void Add(XskSocket socket) => _sockets.Add(socket);

    internal void Remove(XskSocket socket) => _sockets.Remove(socket);

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_base == null, this);

    /// <summary>Registers the area on an AF_XDP socket (XDP_UMEM_REG).</summary>
    internal void Register(int fd)
    {
        ThrowIfDisposed();
        RaiseMemlockLimit();
        // Zero the whole struct: see XdpUmemReg.
        var reg = default(XdpUmemReg);
        reg.Addr = (ulong)_base;
        reg.Len = Size;
        reg.ChunkSize = (uint)FrameSize;
        reg.Headroom = (uint)Headroom;
        if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, (uint)sizeof(XdpUmemReg)) == 0)
            return;
        int errno = Kernel.Errno;
        if (errno == ENOBUFS)
        {
            var limit = default(Rlimit);
            getrlimit(RLIMIT_MEMLOCK, &limit);
            throw new XdpException("setsockopt(XDP_UMEM_REG)", errno, MemlockHint(Size, limit.RlimCur, limit.RlimMax));
        }
        throw new XdpException("setsockopt(XDP_UMEM_REG)", errno);
    }

    /// <summary>The advice for ENOBUFS from XDP_UMEM_REG.</summary>
    internal static string MemlockHint(ulong size, ulong soft, ulong hard) =>
        $"The UMEM ({size} bytes) is locked memory and exceeds RLIMIT_MEMLOCK (soft {FormatLimit(soft)}, hard {FormatLimit(hard)}): " +
        "raise RLIMIT_MEMLOCK (`ulimit -l unlimited`, systemd LimitMEMLOCK=infinity) or grant CAP_IPC_LOCK";

    private static string FormatLimit(ulong value) => value == RLIM_INFINITY ? "unlimited" : value + " bytes";

    /// <summary>Raises the soft RLIMIT_MEMLOCK to the hard limit, which needs no privilege.</summary>
    internal static void RaiseMemlockLimit()
    {
        var limit = default(Rlimit);
        if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.RlimCur >= limit.RlimMax)
            return;
        limit.RlimCur = limit.RlimMax;
        setrlimit(RLIMIT_MEMLOCK, &limit);
    }

    [DoesNotReturn]
    private void ThrowOutOfRange(ulong address, int length)
    {
        ThrowIfDisposed();
        throw new ArgumentOutOfRangeException(nameof(address), $"frame 0x{address:x}+{length} is outside the UMEM ({Size} bytes)");
    }
}
