using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XdpStack.Appliance.Workers;

/// <summary>Pins the calling thread to one CPU.</summary>
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

    /// <summary>The CPU the calling thread runs on right now.</summary>
    public static int CurrentCpu() => sched_getcpu();
}
