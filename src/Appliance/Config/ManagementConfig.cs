using System.Net;

namespace XdpStack.Appliance.Config;

/// <summary>The <c>[management]</c> section: where the management listener (metrics) binds; it uses the kernel stack, not the data path.</summary>
/// <param name="Listen">The address and port to listen on, or null for no listener.</param>
internal sealed record ManagementConfig(IPEndPoint? Listen)
{
    public static ManagementConfig Default { get; } = new(Listen: null);
}
