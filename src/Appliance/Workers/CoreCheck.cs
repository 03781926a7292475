using XdpStack.Appliance.Cli;

namespace XdpStack.Appliance.Workers;

/// <summary>Checks a <c>--cores</c> list against the CPUs that are online.</summary>
/// <remarks>
/// The process's own affinity mask is deliberately not the yardstick: a control thread may be
/// started under <c>taskset</c> on one CPU and pin its workers to others.
/// </remarks>
internal static class CoreCheck
{
    public static void EnsureUsable(int[] cores)
    {
        string text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
        if (!IndexList.TryParse(text, out int[] online, out _))
            return; // an unexpected format: let pinning report any problem
        foreach (int core in cores)
        {
            if (!online.Contains(core))
                throw new ApplianceException($"CPU {core} is not online (online CPUs: {text})");
        }
    }
}
