using System.Reflection;
using System.Runtime.InteropServices;

namespace XdpStack.Appliance.Metrics;

/// <summary>The families of the process itself: which build runs, what it allocated, and (for run) its config reloads.</summary>
/// <param name="command"><c>run</c> or <c>reflect</c>.</param>
/// <param name="reloads">The reload counters, or null for a command that does not reload.</param>
internal sealed class ProcessMetricsSource(string command, ConfigReloadCounters? reloads) : IMetricsSource
{
    /// <summary>The informational version of this build (what <c>xdpstack_build_info</c>'s <c>version</c> says).</summary>
    public static string Version { get; } =
        typeof(ProcessMetricsSource).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ProcessMetricsSource).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    public void Collect(MetricsSample sample)
    {
        sample.Add(MetricCatalog.BuildInfo, 1, Version, RuntimeInformation.FrameworkDescription, command);
        sample.Add(MetricCatalog.AllocatedBytes, GC.GetTotalAllocatedBytes());
        if (reloads is not null)
        {
            sample.Add(MetricCatalog.ConfigReloads, reloads.Successes, "success");
            sample.Add(MetricCatalog.ConfigReloads, reloads.Failures, "failure");
            sample.Add(MetricCatalog.ConfigLastReloadSuccessful, reloads.LastSucceeded ? 1 : 0);
        }
    }
}
