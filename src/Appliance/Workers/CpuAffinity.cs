using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XdpStack.Appliance.Workers;

/// <summary>Pins the calling thread to one CPU, or keeps it off some.</summary>
internal static class CpuAffinity
{
    /// <summary>Pins the calling thread (sched_setaffinity with pid 0) to <paramref name="cpu"/>.</summary>
    public static unsafe void PinCurrentThread(int cpu)
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(cpu_set_t), &set) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new ApplianceException($"cannot pin a worker to CPU {cpu}: sched_setaffinity failed with errno {errno} (is the CPU online and allowed?)");
        }
    }

    /// <summary>
    /// Takes <paramref name="cpus"/> out of the calling thread's affinity, when that leaves it at least one CPU (a control
    /// thread then never competes with the pinned workers); returns whether it did.
    /// </summary>
    public static unsafe bool AvoidOnCurrentThread(IEnumerable<int> cpus)
    {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof(cpu_set_t), &set) != 0)
            return false;
        foreach (int cpu in cpus)
        {
            if (cpu >= 0 && cpu < 8 * sizeof(cpu_set_t))
                CPU_CLR(cpu, &set);
        }
        if (CPU_COUNT(&set) == 0)
            return false;
        return sched_setaffinity(0, sizeof(cpu_set_t), &set) == 0;
    }

    /// <summary>The CPU the calling thread runs on right now.</summary>
    public static int CurrentCpu() => sched_getcpu();
}
