namespace XdpStack.Stack.Transport;

/// <summary>A transport protocol (UDP, TCP, raw) that takes IPv4 packets addressed to the stack; the contract later transports plug into.</summary>
/// <remarks>
/// Called on the receiving worker, with no lock held, once per packet. The handler must not keep
/// any span of the delivery past the call, must not allocate or block, and may answer in place
/// by rewriting <see cref="Ipv4Delivery.Frame"/> and calling <see cref="Ipv4Delivery.SendInPlace"/>.
/// </remarks>
public interface ITransportProtocol
{
    /// <summary>The IP protocol number this transport handles.</summary>
    Wire.IpProtocol Protocol { get; }

    TransportVerdict HandlePacket(scoped ref Ipv4Delivery delivery);
}
