namespace XdpStack.Stack;

/// <summary>The lifecycle state of an <see cref="AddressEndpoint"/>, as in the seed's <c>networkEndpointKind</c>.</summary>
public enum AddressKind
{
    /// <summary>Added by the user; its reference count is biased by one so it lives until removed.</summary>
    Permanent,

    /// <summary>Removed by the user but still held by routes; it neither receives (unless promiscuous) nor sends (unless spoofing), and goes away with the last reference.</summary>
    PermanentExpired,

    /// <summary>Created for a spoofed or in-subnet local address held by a route; not biased, so it goes away with the last route.</summary>
    Temporary,
}
