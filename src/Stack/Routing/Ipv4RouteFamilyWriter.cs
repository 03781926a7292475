using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>The IPv4 routes of a <see cref="RouteTableWriter"/>, with an incrementally updated DIR-24-8 LPM whose versions share unchanged chunks.</summary>
internal sealed class Ipv4RouteFamilyWriter(int lpmThreshold) : RouteFamilyWriter<Ipv4Route, Ipv4Prefix>(lpmThreshold)
{
    private readonly PersistentIpv4LpmBuilder _lpm = new();

    public PersistentIpv4Lpm BuildLpm() => _lpm.Build();

    protected override Ipv4Prefix DestinationOf(Ipv4Route route) => route.Destination;

    protected override int LengthOf(Ipv4Prefix prefix) => prefix.Length;

    protected override int MetricOf(Ipv4Route route) => route.Metric;

    protected override int NicOf(Ipv4Route route) => route.Nic;

    protected override int WeightOf(Ipv4Route route) => route.Weight;

    protected override Ipv4Route IdentityOf(Ipv4Route route) => route.Weight == 1 ? route : route with { Weight = 1 };

    protected override void LpmAdd(Ipv4Prefix prefix, int id) => _lpm.Add(prefix, id);

    protected override void LpmRemove(Ipv4Prefix prefix) => _lpm.Remove(prefix);

    protected override void LpmClear() => _lpm.Clear();
}
