using XdpStack.Appliance.Config;

namespace XdpStack.Appliance.Run;

/// <summary>Runs the appliance on a validated config until cancelled; returns the exit code.</summary>
internal static class ApplianceRunner
{
    public static int Run(ApplianceConfig config, CancellationToken cancellationToken) =>
        throw new ApplianceException("xdpstack run: the data path is not built yet");
}
