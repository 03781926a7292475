namespace XdpStack.Stack.Transport.Udp;

/// <summary>Where a received datagram came from and went to, or, for an ICMP error, which datagram of ours it was about.</summary>
/// <param name="RemoteAddress">The peer: the datagram's source, or the destination of the datagram an error is about.</param>
/// <param name="RemotePort">The peer's port.</param>
/// <param name="LocalAddress">Our address the datagram was sent to.</param>
/// <param name="LocalPort">Our port.</param>
/// <param name="Nic">The NIC it arrived on.</param>
/// <param name="Length">Payload octets.</param>
/// <param name="Worker">The worker that received it; datagrams of one flow come from one worker in order.</param>
/// <param name="IcmpType">For an error: the ICMP type (3 for ICMPv4 unreachable, 1 for ICMPv6); 0 for data.</param>
/// <param name="IcmpCode">For an error: the ICMP code.</param>
public readonly record struct UdpDatagramInfo(
    IpAddress RemoteAddress, ushort RemotePort, IpAddress LocalAddress, ushort LocalPort, NicId Nic, int Length, int Worker,
    byte IcmpType = 0, byte IcmpCode = 0);
