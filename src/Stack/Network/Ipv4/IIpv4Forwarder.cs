using XdpStack.Stack.Link;

namespace XdpStack.Stack.Network.Ipv4;

/// <summary>The hook through which the IPv4 endpoint hands on valid packets not addressed to the stack when the receiving NIC forwards IPv4.</summary>
/// <remarks>
/// Called on the receiving worker with the packet already validated (version, IHL, lengths,
/// header checksum, source and loopback rules). The forwarder owns TTL handling, the route
/// lookup, the MAC rewrite and sending: it may rewrite the frame in place and mark
/// its descriptor for transmission, or count and drop. It also counts
/// <see cref="StatCounter.Ipv4PacketsForwarded"/>, since only it knows whether the packet went on.
/// With <see cref="StackOptions.AcceptSourceRoute"/> on, it is also handed packets addressed to
/// the stack whose source route names further hops.
/// </remarks>
public interface IIpv4Forwarder
{
    void Forward(Nic ingress, int worker, Span<byte> frame, ref Frame descriptor);
}
