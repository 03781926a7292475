using System.Runtime.InteropServices;

namespace XdpStack.Lab;

/// <summary>The few libc calls the lab makes itself (namespaces and lock files).</summary>
internal static partial class Libc
{
    // Values from the generic Linux ABI (x86-64 and arm64 agree).
    public const int O_RDONLY = 0x0;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;
    public const int EWOULDBLOCK = 11;
    public const int CLONE_NEWNET = 0x40000000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int flock(int fd, int operation);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc")]
    public static partial int close(int fd);
}
