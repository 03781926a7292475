using CsCheck;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Routing;

public class RouteTableTests
{
    private static Ipv4Route V4(string prefix, int nic, int metric = 0, string gateway = "0.0.0.0") =>
        new(Ipv4Prefix.Parse(prefix), Ipv4Address.Parse(gateway), nic, metric);

    private static Ipv6Route V6(string prefix, int nic, int metric = 0) => new(Ipv6Prefix.Parse(prefix), Ipv6Address.Any, nic, metric);

    [Theory]
    [InlineData(0)]
    [InlineData(RouteTableWriter.DefaultLpmThreshold)]
    public void AddRoute_MixedLengths_LongestPrefixFirstAndEqualPrefixAfterExisting(int lpmThreshold)
    {
        var writer = new RouteTableWriter(lpmThreshold);
        Ipv4Route a = V4("198.18.1.0/24", 1), b = V4("198.18.0.0/16", 2), c = V4("198.18.1.0/24", 3),
            d = V4("198.18.1.1/32", 4), e = V4("0.0.0.0/0", 5, gateway: "198.18.0.1"), f = V4("198.18.2.0/24", 6);
        foreach (Ipv4Route route in new[] { a, b, c, d, e, f })
            writer.AddRoute(route);
        Assert.Equal([d, a, c, f, b, e], writer.Current.Ipv4Routes);
        // Equal prefixes: the route added first wins.
        Assert.Same(a, writer.Current.Lookup(Ipv4Address.Parse("198.18.1.9")));
        Assert.Equal([a, c, b, e], writer.Current.FindCandidates(Ipv4Address.Parse("198.18.1.9")));
    }

    [Fact]
    public void AddRoute_EqualPrefixLowerMetric_GoesFirst()
    {
        var writer = new RouteTableWriter(lpmThreshold: 0);
        Ipv4Route slow = V4("198.18.0.0/15", 1, metric: 100), fast = V4("198.18.0.0/15", 2, metric: 10), same = V4("198.18.0.0/15", 3, metric: 10);
        writer.AddRoute(slow);
        writer.AddRoute(fast);
        writer.AddRoute(same);
        Assert.Equal([fast, same, slow], writer.Current.Ipv4Routes);
        Assert.Same(fast, writer.Current.Lookup(Ipv4Address.Parse("198.19.255.255")));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(RouteTableWriter.DefaultLpmThreshold)]
    public void Lookup_RouteThroughDownNic_IsSkippedUntilNicIsUp(int lpmThreshold)
    {
        var writer = new RouteTableWriter(lpmThreshold);
        Ipv4Route specific = V4("198.18.1.0/24", nic: 1), fallback = V4("0.0.0.0/0", nic: 2, gateway: "198.18.0.1");
        writer.AddRoute(specific);
        writer.AddRoute(fallback);
        var up = new HashSet<int> { 2 };
        RouteTable table = writer.Current;
        Ipv4Address destination = Ipv4Address.Parse("198.18.1.7");
        Assert.Same(fallback, table.Lookup(destination, up.Contains));
        Assert.Equal(Ipv4Address.Parse("198.18.0.1"), fallback.NextHopFor(destination));
        Assert.Equal(destination, specific.NextHopFor(destination));
        up.Add(1);
        Assert.Same(specific, table.Lookup(destination, up.Contains));
        up.Clear();
        Assert.Null(table.Lookup(destination, up.Contains));
        Assert.Same(specific, table.Lookup(destination, new NicFilters.Only(1)));
        Assert.Same(fallback, table.Lookup(destination, new NicFilters.Only(2)));
    }

    [Fact]
    public void Lookup_Ipv6WithDownNic_FallsBackToShorterPrefix()
    {
        var writer = new RouteTableWriter(lpmThreshold: 0);
        Ipv6Route specific = V6("2001:2:0:1::/64", 1), covering = V6("2001:2::/48", 2), fallback = V6("::/0", 3);
        writer.AddRoute(fallback);
        writer.AddRoute(specific);
        writer.AddRoute(covering);
        Assert.Equal([specific, covering, fallback], writer.Current.Ipv6Routes);
        Ipv6Address destination = Ipv6Address.Parse("2001:2:0:1::5");
        Assert.Same(specific, writer.Current.Lookup(destination));
        Assert.Same(covering, writer.Current.Lookup(destination, nic => nic != 1));
        Assert.Same(fallback, writer.Current.Lookup(destination, nic => nic == 3));
        Assert.Same(fallback, writer.Current.Lookup(Ipv6Address.Parse("2001:3::1")));
    }

    [Fact]
    public void Publish_LaterChanges_LeaveOldSnapshotUnchanged()
    {
        var writer = new RouteTableWriter(lpmThreshold: 0);
        Ipv4Route first = V4("198.18.0.0/16", 1);
        RouteTable before = writer.AddRoute(first);
        writer.AddRoute(V4("198.18.5.0/24", 2));
        Assert.Equal(1, writer.RemoveRoutes((Ipv4Route r) => r.Nic == 1));
        RouteTable after = writer.Current;
        Assert.Same(first, before.Lookup(Ipv4Address.Parse("198.18.5.1")));
        Assert.Equal(2, after.Lookup(Ipv4Address.Parse("198.18.5.1"))!.Nic);
        Assert.Null(after.Lookup(Ipv4Address.Parse("198.18.6.1")));
        Assert.True(after.Version > before.Version);
        Assert.Same(after, writer.Current);
    }

    [Fact]
    public void RemoveRoute_Duplicates_RemovesFirstOnly()
    {
        var writer = new RouteTableWriter(lpmThreshold: 0);
        Ipv4Route a = V4("198.18.0.0/16", 1), b = V4("198.18.0.0/16", 1);
        writer.AddRoute(a);
        writer.AddRoute(b);
        Assert.True(writer.RemoveRoute(V4("198.18.0.0/16", 1)));
        Assert.Same(b, Assert.Single(writer.Current.Ipv4Routes));
        Assert.True(writer.RemoveRoute(b));
        Assert.False(writer.RemoveRoute(b));
        Assert.Null(writer.Current.Lookup(Ipv4Address.Parse("198.18.0.1")));
    }

    // Random route sets, random down NICs: lookups agree with a stable sort and a linear scan, on both the LPM and the scan path.
    [Fact]
    public void Lookup_RandomRoutesAndDownNics_MatchesOrderedScan()
    {
        Gen<uint> genBase = Gen.Frequency((1, Gen.UInt), (3, Gen.UInt[0xC612_0000u, 0xC613_FFFFu]));
        Gen<Ipv4Route> genRoute = Gen.Select(genBase, Gen.Int[0, 32], Gen.Int[1, 4], Gen.Int[0, 2], (a, l, nic, metric) =>
            new Ipv4Route(Ipv4Prefix.Containing(new Ipv4Address(a), l), Ipv4Address.Any, nic, metric));
        // Each batch adds some routes and removes those matching a random (nic, length) pair.
        Gen<(Ipv4Route[] Adds, int RemoveNic, int RemoveMaxLength)> genBatch = Gen.Select(genRoute.Array[0, 30], Gen.Int[0, 4], Gen.Int[0, 32]);
        Gen.Select(genBatch.Array[1, 4], Gen.Bool, Gen.Int[0, 15], genBase.Array[40]).Sample((batches, useLpm, downMask, probes) =>
        {
            var writer = new RouteTableWriter(useLpm ? 0 : 1000);
            var model = new List<(Ipv4Route Route, int Seq)>();
            int seq = 0;
            foreach ((Ipv4Route[] adds, int removeNic, int removeMaxLength) in batches)
            {
                bool Doomed(Ipv4Route r) => r.Nic == removeNic && r.Destination.Length <= removeMaxLength;
                writer.Update(b =>
                {
                    foreach (Ipv4Route r in adds)
                        b.AddRoute(r);
                    b.RemoveRoutes(Doomed);
                });
                model.AddRange(adds.Select(r => (r, seq++)));
                model.RemoveAll(m => Doomed(m.Route));
            }
            Ipv4Route[] expectedOrder = model
                .OrderByDescending(m => m.Route.Destination.Length).ThenBy(m => m.Route.Metric).ThenBy(m => m.Seq)
                .Select(m => m.Route).ToArray();
            RouteTable table = writer.Current;
            Assert.Equal(expectedOrder.Length, table.Ipv4Routes.Count);
            for (int i = 0; i < expectedOrder.Length; i++)
                Assert.Same(expectedOrder[i], table.Ipv4Routes[i]);
            Assert.Equal(useLpm && expectedOrder.Length > 0, table.Ipv4Lpm is not null);
            bool Up(int nic) => (downMask & (1 << (nic - 1))) == 0;
            Ipv4Address[] destinations = [.. probes.Select(p => new Ipv4Address(p)), .. expectedOrder.Select(r => r.Destination.Address)];
            var indices = new int[destinations.Length];
            table.LookupIndex(destinations, indices);
            for (int i = 0; i < destinations.Length; i++)
            {
                Ipv4Address d = destinations[i];
                Ipv4Route[] candidates = expectedOrder.Where(r => r.Destination.Contains(d)).ToArray();
                Assert.Equal(candidates, table.FindCandidates(d));
                Assert.Same(candidates.FirstOrDefault(r => Up(r.Nic)), table.Lookup(d, Up));
                Assert.Same(candidates.FirstOrDefault(), table.Lookup(d));
                int expectedIndex = candidates.Length == 0 ? -1 : Array.IndexOf(expectedOrder, candidates[0]);
                Assert.Equal(expectedIndex, table.LookupIndex(d));
                Assert.Equal(expectedIndex, indices[i]);
            }
        }, iter: 40);
    }

    [Fact]
    public void LookupIndex_Batch_AllocatesNothing()
    {
        var writer = new RouteTableWriter(lpmThreshold: 0);
        writer.AddRoute(V4("198.18.0.0/15", 1));
        writer.AddRoute(V4("198.18.3.128/25", 2));
        RouteTable table = writer.Current;
        Ipv4Address[] destinations = Enumerable.Range(0, 64).Select(i => new Ipv4Address(0xC612_0350u + (uint)i)).ToArray();
        var indices = new int[destinations.Length];
        table.LookupIndex(destinations, indices);
        var up = new NicFilters.Only(2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            table.LookupIndex(destinations, indices);
            _ = table.Lookup(destinations[i], up);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(1, indices[0]);
        Assert.Equal(0, indices[63]);
    }
}
