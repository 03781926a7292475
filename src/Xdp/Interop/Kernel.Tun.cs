using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Interop;

internal static unsafe partial class Kernel
{
    // linux/if_tun.h
    internal const ulong TUNSETIFF = 0x400454ca;    // _IOW('T', 202, int)
    internal const short IFF_TAP = 0x0002;
    internal const short IFF_NO_PI = 0x1000;

    // fcntl.h
    internal const int O_RDWR = 0x2;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_CLOEXEC = 0x80000;

    /// <summary>struct ifreq with the ifr_flags member of its union (TUNSETIFF); the whole 40 bytes, as the kernel copies them.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    internal struct IfreqFlags
    {
        [FieldOffset(0)]
        public fixed byte IfrName[16];  // char ifr_name[IFNAMSIZ]

        [FieldOffset(16)]
        public short IfrFlags;          // short ifr_flags (in union ifr_ifru)
    }

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int open(byte* pathname, int flags);
}
