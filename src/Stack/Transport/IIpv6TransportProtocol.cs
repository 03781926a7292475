namespace XdpStack.Stack.Transport;

/// <summary>A transport protocol that also takes IPv6 packets addressed to the stack; registered like any <see cref="ITransportProtocol"/>.</summary>
/// <remarks>
/// The same rules as <see cref="ITransportProtocol"/>: called on the receiving worker, nothing kept
/// past the call, no allocation or blocking; a handler may answer in place by rewriting
/// <see cref="Ipv6Delivery.Frame"/> and calling <see cref="Ipv6Delivery.SendInPlace"/>.
/// </remarks>
public interface IIpv6TransportProtocol : ITransportProtocol
{
    /// <summary>Handles the upper-layer segment of an IPv6 packet (extension headers already walked, length bounded by the payload length).</summary>
    TransportVerdict HandlePacket(scoped ref Ipv6Delivery delivery);
}
