using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>An IPv4 route: packets to <see cref="Destination"/> leave through NIC <see cref="Nic"/>, via <see cref="Gateway"/> unless it is 0.0.0.0 (on-link).</summary>
/// <param name="Destination">The destination prefix; 0.0.0.0/0 is the default route.</param>
/// <param name="Gateway">The next router, or <see cref="Ipv4Address.Any"/> when the destination is on the link.</param>
/// <param name="Nic">The outgoing NIC's id.</param>
/// <param name="Metric">Breaks ties between routes with prefixes of equal length: lower wins. Routes of one prefix and metric share its traffic (a <see cref="MultipathGroup"/>).</param>
/// <param name="Weight">This route's share of its multipath group, 1 to 256 (Linux's rtnexthop hops + 1); alone it means nothing.</param>
public sealed record Ipv4Route(Ipv4Prefix Destination, Ipv4Address Gateway, int Nic, int Metric = 0, int Weight = 1)
{
    /// <summary>The most a route may weigh: Linux's rtnh_hops is one octet.</summary>
    public const int MaxWeight = 256;

    private readonly int _weight = CheckWeight(Weight);

    /// <summary>This route's share of its multipath group.</summary>
    public int Weight { get => _weight; init => _weight = CheckWeight(value); }

    /// <summary>True when the route has no gateway, so the destination itself is resolved on the link.</summary>
    public bool IsOnLink => Gateway.IsUnspecified;

    /// <summary>The address to resolve for a packet to <paramref name="destination"/>: the gateway, or the destination when on-link.</summary>
    public Ipv4Address NextHopFor(Ipv4Address destination) => IsOnLink ? destination : Gateway;

    public override string ToString() =>
        IsOnLink ? $"{Destination} dev {Nic} metric {Metric}{WeightText}" : $"{Destination} via {Gateway} dev {Nic} metric {Metric}{WeightText}";

    private static int CheckWeight(int weight) => weight is >= 1 and <= MaxWeight
        ? weight
        : throw new ArgumentOutOfRangeException(nameof(Weight), weight, "a route's weight is 1 to 256");

    private string WeightText => Weight == 1 ? "" : $" weight {Weight}";
}
