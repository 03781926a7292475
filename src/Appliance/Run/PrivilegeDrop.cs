using System.Runtime.InteropServices;
using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Config;

namespace XdpStack.Appliance.Run;

/// <summary>Gives up root once the interfaces are set up: every thread becomes an unprivileged user, and only the main thread keeps CAP_NET_ADMIN.</summary>
/// <remarks>
/// <para>
/// Capabilities belong to threads, not to the process, and capset(2) changes only the calling thread's, while the
/// runtime has started threads of its own long before (GC, finalizer, tiering, the thread pool). Changing the user
/// is what reaches them all: glibc runs setresuid(2) on every thread of the process, and a thread whose user stops
/// being 0 loses every capability unless it set PR_SET_KEEPCAPS. Only the main thread sets it, then keeps
/// CAP_NET_ADMIN and drops the rest from its permitted, effective and bounding sets: the stop runs on the main
/// thread and needs CAP_NET_ADMIN to turn GRO back on (ethtool). AF_XDP sockets, BPF links, UMEM and netlink
/// sockets already open work without any capability.
/// </para>
/// <para>
/// Threads the main thread starts later inherit CAP_NET_ADMIN; threads started by any other thread have none.
/// A process started as another user (with ambient capabilities) cannot change user; the drop is skipped with a line
/// saying so, and the unit's <c>CapabilityBoundingSet</c> is what limits it then.
/// </para>
/// </remarks>
internal static partial class PrivilegeDrop
{
    private const int PR_SET_KEEPCAPS = 8;
    private const int PR_CAPBSET_DROP = 24;
    private const int PR_SET_NO_NEW_PRIVS = 38;
    private const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    private const int LastCapability = 40; // CAP_CHECKPOINT_RESTORE, the highest in the 6.x kernels' headers

    /// <summary>The capabilities the main thread keeps, and why (shown at start and in docs/operate.md).</summary>
    public const string Kept = "CAP_NET_ADMIN on the main thread (to turn GRO back on at the stop)";

    /// <summary>Changes every thread to <paramref name="user"/> and keeps CAP_NET_ADMIN on this (the main) thread; returns the line to print.</summary>
    /// <exception cref="ApplianceException">A system call failed: the process must not go on half-privileged.</exception>
    public static unsafe string Apply(RunAsUser user)
    {
        if (Tmds.Linux.LibC.getuid() != 0)
            return $"xdpstack: not started as root (uid {Tmds.Linux.LibC.getuid()}): keeping the capabilities it was given; limit them in the unit (CapabilityBoundingSet)";
        // The bounding set first, while CAP_SETPCAP is still effective (the user change clears the effective set).
        for (int cap = 0; cap <= LastCapability; cap++)
        {
            // EINVAL: a capability this kernel does not know, so nothing to drop.
            if (cap != Capabilities.CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, (ulong)cap, 0, 0, 0) != 0 && Marshal.GetLastPInvokeError() != 22)
                Check(-1, $"prctl(PR_CAPBSET_DROP, {cap})");
        }
        Check(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)");
        CheckLibC(Tmds.Linux.LibC.setgroups(0, null), "setgroups");
        CheckLibC(Tmds.Linux.LibC.setresgid(user.Gid, user.Gid, user.Gid), "setresgid");
        CheckLibC(Tmds.Linux.LibC.setresuid(user.Uid, user.Uid, user.Uid), "setresuid");
        Check(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl(PR_SET_KEEPCAPS, 0)");
        SetThreadCapabilities(1UL << Capabilities.CAP_NET_ADMIN);
        Check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)");
        return $"xdpstack: set-up done: running as {user.Name} (uid {user.Uid}, gid {user.Gid}) with no capabilities except {Kept}";
    }

    private static unsafe void SetThreadCapabilities(ulong mask)
    {
        var header = new CapHeader { Version = LINUX_CAPABILITY_VERSION_3, Pid = 0 };
        CapData* data = stackalloc CapData[2];
        data[0] = new CapData { Effective = (uint)mask, Permitted = (uint)mask, Inheritable = 0 };
        data[1] = new CapData { Effective = (uint)(mask >> 32), Permitted = (uint)(mask >> 32), Inheritable = 0 };
        Check(capset(&header, data), "capset");
    }

    // Tmds.LibC keeps errno itself rather than as the P/Invoke last error.
    private static void CheckLibC(int rc, string call)
    {
        if (rc != 0)
            throw new ApplianceException($"dropping privileges: {call} failed: {Marshal.GetPInvokeErrorMessage(Tmds.Linux.LibC.errno)}");
    }

    private static void Check(int rc, string call)
    {
        if (rc != 0)
            throw new ApplianceException($"dropping privileges: {call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int capset(CapHeader* header, CapData* data);
}
