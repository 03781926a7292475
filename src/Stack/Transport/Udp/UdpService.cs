namespace XdpStack.Stack.Transport.Udp;

/// <summary>One registration of a UDP service, as given to <see cref="UdpProtocol.AddService"/>.</summary>
/// <param name="Kind">What the service does.</param>
/// <param name="Port">The local port it answers on.</param>
/// <param name="LocalAddress">The one local address it answers on; null for every address of both families, an unspecified address for every address of that family.</param>
public readonly record struct UdpService(UdpServiceKind Kind, ushort Port, IpAddress? LocalAddress);
