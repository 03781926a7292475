namespace XdpStack.Stack.Routing;

/// <summary>Which header fields pick a multipath route's next hop (Linux <c>fib_multipath_hash_policy</c> 0 and 1).</summary>
public enum MultipathHashPolicy
{
    /// <summary>Source and destination address (plus the flow label for IPv6) for every packet.</summary>
    Layer3,

    /// <summary>The default: address, protocol and ports for unfragmented TCP and UDP, as VPP's default flow hash and Linux policy 1; <see cref="Layer3"/> for everything else.</summary>
    Layer4,
}
