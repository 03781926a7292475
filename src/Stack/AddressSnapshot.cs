using System.Collections.Frozen;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

/// <summary>An immutable view of one NIC's addresses, published with one <see cref="Volatile.Write{T}(ref T, T)"/> after every change, for the receive path.</summary>
/// <remarks>
/// Workers read the NIC's snapshot reference once per batch and never lock. The endpoints inside
/// are live objects: their <see cref="AddressEndpoint.Kind"/> may change after publication, which
/// is why receive checks <see cref="AddressEndpoint.IsValidForIncoming"/> on every hit.
/// </remarks>
public sealed class AddressSnapshot
{
    internal static readonly AddressSnapshot Empty = new(
        FrozenDictionary<Ipv4Address, AddressEndpoint>.Empty, FrozenDictionary<Ipv6Address, AddressEndpoint>.Empty,
        [], [], FrozenSet<Ipv4Address>.Empty, [], FrozenSet<Ipv4Address>.Empty, FrozenSet<Ipv6Address>.Empty);

    internal AddressSnapshot(
        FrozenDictionary<Ipv4Address, AddressEndpoint> ipv4,
        FrozenDictionary<Ipv6Address, AddressEndpoint> ipv6,
        AddressEndpoint[] primaryIpv4,
        AddressEndpoint[] primaryIpv6,
        FrozenSet<Ipv4Address> ipv4SubnetBroadcasts,
        Ipv4Prefix[] ipv4Subnets,
        FrozenSet<Ipv4Address> ipv4Groups,
        FrozenSet<Ipv6Address> ipv6Groups)
    {
        Ipv4 = ipv4;
        Ipv6 = ipv6;
        PrimaryIpv4Array = primaryIpv4;
        PrimaryIpv4 = primaryIpv4;
        PrimaryIpv6 = primaryIpv6;
        Ipv4SubnetBroadcasts = ipv4SubnetBroadcasts;
        Ipv4SubnetArray = ipv4Subnets;
        Ipv4Subnets = ipv4Subnets;
        Ipv4Groups = ipv4Groups;
        Ipv6Groups = ipv6Groups;
    }

    /// <summary>Every IPv4 endpoint of the NIC, expired and temporary ones included.</summary>
    public FrozenDictionary<Ipv4Address, AddressEndpoint> Ipv4 { get; }

    /// <summary>Every IPv6 endpoint of the NIC, expired and temporary ones included.</summary>
    public FrozenDictionary<Ipv6Address, AddressEndpoint> Ipv6 { get; }

    // The same lists as arrays, so the receive path loops without an interface enumerator.
    internal AddressEndpoint[] PrimaryIpv4Array { get; }

    internal Ipv4Prefix[] Ipv4SubnetArray { get; }

    /// <summary>IPv4 source-address candidates in preference order (FirstPrimary in front, NeverPrimary absent).</summary>
    public IReadOnlyList<AddressEndpoint> PrimaryIpv4 { get; }

    /// <summary>IPv6 source-address candidates in preference order.</summary>
    public IReadOnlyList<AddressEndpoint> PrimaryIpv6 { get; }

    /// <summary>The directed broadcast addresses of the subnets of the NIC's permanent IPv4 addresses (prefixes up to /30; /31 and /32 have none).</summary>
    public FrozenSet<Ipv4Address> Ipv4SubnetBroadcasts { get; }

    /// <summary>Subnets added with <c>AddSubnet</c>: the NIC accepts any destination inside them (the seed's behaviour).</summary>
    public IReadOnlyList<Ipv4Prefix> Ipv4Subnets { get; }

    /// <summary>IPv4 multicast groups joined, while the NIC is enabled.</summary>
    public FrozenSet<Ipv4Address> Ipv4Groups { get; }

    public FrozenSet<Ipv6Address> Ipv6Groups { get; }
}
