using XdpStack.Stack;

namespace XdpStack.Appliance.Config;

/// <summary>One <c>[[route]]</c>, resolved: the interface is always known, named or found from the gateway.</summary>
/// <param name="Destination">The prefix the route covers.</param>
/// <param name="Gateway">The next hop, of the destination's family; null for an on-link route.</param>
/// <param name="Interface">The interface packets leave by.</param>
/// <param name="Metric">The preference among routes to one prefix; lower wins, and routes of one prefix and metric share its traffic (ECMP).</param>
/// <param name="Weight">This route's share of its multipath group, 1 to 256.</param>
internal sealed record RouteConfig(IpPrefix Destination, IpAddress? Gateway, string Interface, int Metric, int Weight = 1)
{
    public bool IsOnLink => Gateway is null;

    public override string ToString() =>
        $"{Destination}{(Gateway is { } g ? $" via {g}" : "")} dev {Interface} metric {Metric}{(Weight == 1 ? "" : $" weight {Weight}")}";
}
