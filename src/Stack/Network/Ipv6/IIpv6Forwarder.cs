using XdpStack.Stack.Link;

namespace XdpStack.Stack.Network.Ipv6;

/// <summary>The hook through which the IPv6 endpoint hands on valid packets not addressed to the stack when the receiving NIC forwards IPv6.</summary>
/// <remarks>
/// Called on the receiving worker with the fixed header checked (version, payload length within
/// the frame, frame trimmed to it) and a multicast or loopback source already dropped. The
/// forwarder owns the Hop-by-Hop options, the address scope rules, the hop limit, the route
/// lookup, the MTU, the MAC rewrite and sending: it may rewrite the frame in place and mark its
/// descriptor for transmission, or count and drop.
/// </remarks>
public interface IIpv6Forwarder
{
    void Forward(Nic ingress, int worker, Span<byte> frame, ref Frame descriptor);
}
