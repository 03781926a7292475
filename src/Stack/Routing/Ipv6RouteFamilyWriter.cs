using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>The IPv6 routes of a <see cref="RouteTableWriter"/>, with a multibit-trie LPM.</summary>
internal sealed class Ipv6RouteFamilyWriter(int lpmThreshold) : RouteFamilyWriter<Ipv6Route, Ipv6Prefix>(lpmThreshold)
{
    private readonly Ipv6LpmBuilder _lpm = new();

    public Ipv6Lpm BuildLpm() => _lpm.Build();

    protected override Ipv6Prefix DestinationOf(Ipv6Route route) => route.Destination;

    protected override int LengthOf(Ipv6Prefix prefix) => prefix.Length;

    protected override int MetricOf(Ipv6Route route) => route.Metric;

    protected override int NicOf(Ipv6Route route) => route.Nic;

    protected override int WeightOf(Ipv6Route route) => route.Weight;

    protected override Ipv6Route IdentityOf(Ipv6Route route) => route.Weight == 1 ? route : route with { Weight = 1 };

    protected override void LpmAdd(Ipv6Prefix prefix, int id) => _lpm.Add(prefix, id);

    protected override void LpmRemove(Ipv6Prefix prefix) => _lpm.Remove(prefix);

    protected override void LpmClear() => _lpm.Clear();
}
