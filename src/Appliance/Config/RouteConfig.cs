using XdpStack.Stack;

namespace XdpStack.Appliance.Config;

/// <summary>One <c>[[route]]</c>, resolved: the interface is always known, named or found from the gateway.</summary>
/// <param name="Destination">The prefix the route covers.</param>
/// <param name="Gateway">The next hop, of the destination's family; null for an on-link route.</param>
/// <param name="Interface">The interface packets leave by.</param>
/// <param name="Metric">The preference among routes to one prefix; lower wins.</param>
internal sealed record RouteConfig(IpPrefix Destination, IpAddress? Gateway, string Interface, int Metric)
{
    public bool IsOnLink => Gateway is null;

    public override string ToString() =>
        $"{Destination}{(Gateway is { } g ? $" via {g}" : "")} dev {Interface} metric {Metric}";
}
