namespace XdpStack.Stack.Transport.Tcp;

/// <summary>The four-tuple that names a connection in its worker's table, seen from our side.</summary>
internal readonly record struct TcpFlowKey(IpAddress LocalAddress, IpAddress RemoteAddress, ushort LocalPort, ushort RemotePort);
