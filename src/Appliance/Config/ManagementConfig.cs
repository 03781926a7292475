using System.Net;

namespace XdpStack.Appliance.Config;

/// <summary>The <c>[management]</c> section: where the management listener (metrics) binds (it uses the kernel stack, not the data path), and which user the process becomes after set-up.</summary>
/// <param name="Listen">The address and port to listen on, or null for no listener (<c>listen = ""</c>).</param>
/// <param name="User">The user the appliance becomes once set up (<c>user</c>), or null to stay root (<c>user = ""</c>).</param>
internal sealed record ManagementConfig(IPEndPoint? Listen, RunAsUser? User)
{
    /// <summary>The port the listener takes unless told otherwise (docs/metrics.md; dashboards and the compose file use it).</summary>
    public const int DefaultPort = 9469;

    /// <summary>The user the appliance runs as after set-up unless told otherwise: Debian's nobody, when this machine has it.</summary>
    public static RunAsUser? DefaultUser { get; } = RunAsUser.FromPasswd("nobody");

    // After DefaultUser: static initializers run in textual order.
    /// <summary>Loopback only: metrics are for a local Prometheus (or an SSH tunnel) unless an address is configured.</summary>
    public static ManagementConfig Default { get; } = new(Listen: new IPEndPoint(IPAddress.Loopback, DefaultPort), User: DefaultUser);

}
