using System.Runtime.InteropServices;

namespace XdpStack.Appliance.Workers;

/// <summary>Sets the calling thread's nice value (its CFS/EEVDF weight).</summary>
/// <remarks>
/// On Linux, setpriority(PRIO_PROCESS, 0, n) changes only the calling thread, not the whole process. Raising the
/// priority (a negative value) needs CAP_SYS_NICE or an RLIMIT_NICE that allows it.
/// </remarks>
internal static partial class ThreadNice
{
    private const int PrioProcess = 0;
    private const int Eacces = 13;
    private const int Eperm = 1;

    /// <summary>Sets the calling thread's nice value; null on success, otherwise what failed and how to grant it.</summary>
    public static string? TrySetCurrent(int nice)
    {
        if (setpriority(PrioProcess, 0, nice) == 0)
            return null;
        int errno = Marshal.GetLastPInvokeError();
        return errno is Eacces or Eperm
            ? $"setpriority({nice}) was refused (errno {errno}): raising a thread's priority needs CAP_SYS_NICE " +
              "(systemd: add it to AmbientCapabilities and CapabilityBoundingSet) or LimitNICE; or set [workers] nice = 0"
            : $"setpriority({nice}) failed with errno {errno}";
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, uint who, int prio);
}
