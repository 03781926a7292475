using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport;

/// <summary>The key of a transport endpoint in the demultiplexer (gVisor <c>TransportEndpointID</c>): network protocol, local and remote address and port; an unspecified address or port 0 is a wildcard.</summary>
/// <remarks>Wildcard addresses are stored as <c>default</c> so that an unbound IPv4 and IPv6 key compare by <see cref="Network"/> alone.</remarks>
public readonly record struct TransportEndpointId(EtherType Network, ushort LocalPort, IpAddress LocalAddress, ushort RemotePort, IpAddress RemoteAddress)
{
    /// <summary>Builds a key, turning unspecified addresses into the wildcard.</summary>
    public static TransportEndpointId Create(EtherType network, IpAddress localAddress, ushort localPort, IpAddress remoteAddress, ushort remotePort) =>
        new(network, localPort, localAddress.IsUnspecified ? default : localAddress, remotePort, remoteAddress.IsUnspecified ? default : remoteAddress);

    /// <summary>The same key without the local address (lookup step 2).</summary>
    public TransportEndpointId WithoutLocalAddress => this with { LocalAddress = default };

    /// <summary>The same key without the remote address and port (lookup step 3).</summary>
    public TransportEndpointId WithoutRemote => this with { RemoteAddress = default, RemotePort = 0 };

    /// <summary>Only the network protocol and local port (lookup step 4).</summary>
    public TransportEndpointId PortOnly => new(Network, LocalPort, default, 0, default);
}
