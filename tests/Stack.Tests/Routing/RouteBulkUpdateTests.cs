using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Routing;

/// <summary>Batch.AddRoutes and RemoveRoutes, the bulk forms a kernel route sync uses: the same table as adding and removing one route at a time.</summary>
public sealed class RouteBulkUpdateTests
{
    [Theory]
    [InlineData(5, 1)]
    [InlineData(40, 2)]
    [InlineData(3000, 3)]
    public void AddRoutes_RandomRoutesOntoExistingOnes_SameOrderAndLookupsAsOneByOne(int count, int seed)
    {
        var random = new Random(seed);
        Ipv4Route[] existing = [.. Enumerable.Range(0, 50).Select(_ => RandomRoute(random))];
        Ipv4Route[] added = [.. Enumerable.Range(0, count).Select(_ => RandomRoute(random))];
        var oneByOne = new RouteTableWriter(lpmThreshold: 0);
        var bulk = new RouteTableWriter(lpmThreshold: 0);
        foreach (Ipv4Route route in existing)
        {
            oneByOne.AddRoute(route);
            bulk.AddRoute(route);
        }

        oneByOne.Update(b =>
        {
            foreach (Ipv4Route route in added)
                b.AddRoute(route);
        });
        bulk.Update(b => b.AddRoutes(added));

        Assert.Equal(oneByOne.Current.Ipv4Routes, bulk.Current.Ipv4Routes);
        for (int i = 0; i < 2000; i++)
        {
            var address = new Ipv4Address(0xC612_0000u | (uint)random.Next(1 << 17));
            Assert.Equal(oneByOne.Current.Lookup(address), bulk.Current.Lookup(address));
        }
    }

    [Fact]
    public void RemoveRoutes_HalfOfManyRoutes_RestKeepTheirOrder_PrefixesOfGoneRoutesNoLongerMatch()
    {
        var random = new Random(4);
        Ipv4Route[] routes = [.. Enumerable.Range(0, 5000).Select(_ => RandomRoute(random)).Distinct()];
        var writer = new RouteTableWriter(lpmThreshold: 0);
        writer.Update(b => b.AddRoutes(routes));
        HashSet<Ipv4Route> gone = [.. routes.Where((_, i) => i % 2 == 0)];
        Ipv4Route[] kept = [.. writer.Current.Ipv4Routes.Where(r => !gone.Contains(r))];

        int removed = 0;
        writer.Update(b => removed = b.RemoveRoutes(gone.Contains));

        Assert.Equal(gone.Count, removed);
        Assert.Equal(kept, writer.Current.Ipv4Routes);
        foreach (Ipv4Route route in gone.Where(g => !kept.Any(k => k.Destination == g.Destination)).Take(200))
            Assert.NotEqual(route.Destination, writer.Current.Lookup(route.Destination.Address)?.Destination);
    }

    private static Ipv4Route RandomRoute(Random random)
    {
        int length = random.Next(16, 33);
        var address = new Ipv4Address(0xC612_0000u | (uint)random.Next(1 << 17));
        return new Ipv4Route(Ipv4Prefix.Containing(address, length), new Ipv4Address(0xC612_0100u | (uint)random.Next(1, 4)), random.Next(1, 3), random.Next(0, 3) * 10);
    }
}
