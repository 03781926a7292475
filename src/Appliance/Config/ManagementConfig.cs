using System.Net;

namespace XdpStack.Appliance.Config;

/// <summary>The <c>[management]</c> section: where the management listener (metrics) binds; it uses the kernel stack, not the data path.</summary>
/// <param name="Listen">The address and port to listen on, or null for no listener (<c>listen = ""</c>).</param>
internal sealed record ManagementConfig(IPEndPoint? Listen)
{
    /// <summary>The port the listener takes unless told otherwise (docs/metrics.md; dashboards and the compose file use it).</summary>
    public const int DefaultPort = 9469;

    /// <summary>Loopback only: metrics are for a local Prometheus (or an SSH tunnel) unless an address is configured.</summary>
    public static ManagementConfig Default { get; } = new(Listen: new IPEndPoint(IPAddress.Loopback, DefaultPort));
}
