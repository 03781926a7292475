using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Interop;

/// <summary>The syscalls and kernel ABI this library calls directly, under their kernel names.</summary>
/// <remarks>
/// Every call sets errno through <c>SetLastError</c>, so <see cref="Marshal.GetLastPInvokeError"/>
/// is accurate right after it (Tmds.LibC's <c>poll</c> does not do that, one reason these are ours).
/// Arguments are blittable: the assembly disables runtime marshalling.
/// </remarks>
internal static unsafe partial class Kernel
{
    private const string Libc = "libc";

    internal const int AF_UNSPEC = 0;
    internal const int AF_INET = 2;
    internal const int AF_INET6 = 10;
    internal const int AF_NETLINK = 16;
    internal const int SOCK_DGRAM = 2;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int SOL_SOCKET = 1;
    internal const int SO_RCVBUF = 8;
    internal const int SO_BUSY_POLL = 46;
    internal const int SO_PREFER_BUSY_POLL = 69;
    internal const int SO_BUSY_POLL_BUDGET = 70;
    internal const int MSG_DONTWAIT = 0x40;

    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int MAP_SHARED = 0x01;
    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_POPULATE = 0x8000;
    internal const int MAP_HUGETLB = 0x40000;

    internal const short POLLIN = 0x001;
    internal const short POLLOUT = 0x004;

    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int EINTR = 4;
    internal const int EBADF = 9;
    internal const int EAGAIN = 11;
    internal const int ENOMEM = 12;
    internal const int EACCES = 13;
    internal const int EFAULT = 14;
    internal const int EBUSY = 16;
    internal const int EEXIST = 17;
    internal const int ENODEV = 19;
    internal const int EINVAL = 22;
    internal const int ENOSPC = 28;
    internal const int ERANGE = 34;
    internal const int ENOSYS = 38;
    internal const int EOPNOTSUPP = 95;
    internal const int EAFNOSUPPORT = 97;
    internal const int ENETDOWN = 100;
    internal const int ENOBUFS = 105;
    internal const int ENXIO = 6;
    internal const int E2BIG = 7;

    /// <summary>struct pollfd from poll.h.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;          // int fd
        public short Events;    // short events
        public short Revents;   // short revents
    }

    /// <summary>struct rlimit from sys/resource.h.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Rlimit
    {
        public ulong RlimCur;   // rlim_t rlim_cur
        public ulong RlimMax;   // rlim_t rlim_max
    }

    internal const int RLIMIT_MEMLOCK = 8;
    internal const ulong RLIM_INFINITY = ulong.MaxValue;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int bind(int fd, void* addr, uint addrlen);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int setsockopt(int fd, int level, int optname, void* optval, uint optlen);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int getsockopt(int fd, int level, int optname, void* optval, uint* optlen);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int munmap(void* addr, nuint length);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int poll(PollFd* fds, ulong nfds, int timeout);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint sendto(int fd, void* buf, nuint len, int flags, void* destAddr, uint addrlen);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint recvfrom(int fd, void* buf, nuint len, int flags, void* srcAddr, uint* addrlen);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint send(int fd, void* buf, nuint len, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint recv(int fd, void* buf, nuint len, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int ioctl(int fd, ulong request, void* arg);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial uint if_nametoindex(byte* ifname);

    internal const int F_DUPFD_CLOEXEC = 1030;

    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int getrlimit(int resource, Rlimit* rlim);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int setrlimit(int resource, Rlimit* rlim);

    // syscall(2) is variadic in C; on x86-64 and arm64 Linux integer arguments pass the same way
    // for variadic and fixed-argument calls, so a fixed signature is safe.
    [LibraryImport(Libc, SetLastError = true)]
    internal static partial long syscall(long number, long a1, long a2, long a3);

    /// <summary>The errno of the last call made through this class.</summary>
    internal static int Errno => Marshal.GetLastPInvokeError();
}
