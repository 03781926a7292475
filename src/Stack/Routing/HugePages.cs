using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpStack.Stack.Routing;

/// <summary>Asks Linux to back large pinned tables with transparent huge pages, so random lookups stop missing the TLB.</summary>
/// <remarks>
/// A 64 MiB tbl24 spans 16,384 4-KiB pages, far beyond the TLB, so with small pages nearly every random lookup adds a
/// page walk; 2-MiB pages cover it with 32 entries. <c>madvise(MADV_HUGEPAGE)</c> works when THP is in "madvise" or
/// "always" mode and is a harmless no-op otherwise. It must be called before the pages are first touched, which is
/// why tables are allocated uninitialised and advised before they are filled.
/// </remarks>
internal static partial class HugePages
{
    private const int MADV_HUGEPAGE = 14;
    private const long HugePageSize = 2 * 1024 * 1024;

    public static unsafe void Advise(Array pinnedArray)
    {
        if (!OperatingSystem.IsLinux())
            return;
        // The array lives on the pinned object heap, so its address is stable for its whole life.
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedArray));
        long length = Buffer.ByteLength(pinnedArray);
        long alignedStart = (start + HugePageSize - 1) & ~(HugePageSize - 1);
        long alignedEnd = (start + length) & ~(HugePageSize - 1);
        if (alignedEnd > alignedStart)
            _ = madvise((nint)alignedStart, (nuint)(alignedEnd - alignedStart), MADV_HUGEPAGE);
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int madvise(nint address, nuint length, int advice);
}
