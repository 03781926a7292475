using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using Xunit.Abstractions;
using static XdpStack.Stack.Tests.Fakes.EcmpFixture;

namespace XdpStack.Stack.Tests.Routing;

// ECMP through the full stack (Ipv4Forwarder, Ipv6Forwarder): spread, per-flow stickiness, resilience when a next hop
// leaves or comes back (route removed, NIC down), fragments, the hash policy and weights.
public class MultipathForwardingTests(ITestOutputHelper output)
{
    private const int Flows = 1000;

    private readonly ITestOutputHelper _output = output;

    // Flow i: the host's connection from source port 20000 + i to port 443 of one address behind the multipath route.
    private static byte[] Flow(bool ipv6, int i, byte ttl = 64, int payloadLength = 24) => ipv6
        ? Flow6(Beyond6, (ushort)(20000 + i), hopLimit: ttl, payloadLength: payloadLength)
        : Flow4(Beyond4, (ushort)(20000 + i), id: (ushort)(i * 7 + ttl), ttl: ttl, payloadLength: payloadLength);

    private static int[] PathsOf(EcmpFixture f, bool ipv6) =>
        [.. Enumerable.Range(0, Flows).Select(i => f.Forward(Flow(ipv6, i)).Path)];

    private static int[] Counts(int[] paths) => [.. Enumerable.Range(0, Paths).Select(p => paths.Count(x => x == p))];

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(false, 20)]
    [InlineData(true, 20)]
    public void Forward_ThousandFlowsOverFourPaths_EachWithinTenPercentOfAQuarter(bool ipv6, int extraRoutes)
    {
        var f = new EcmpFixture(extraRoutes: extraRoutes);
        int[] counts = Counts(PathsOf(f, ipv6));
        _output.WriteLine(string.Join(" ", counts));
        Assert.Equal(Flows, counts.Sum());
        foreach (int count in counts)
            Assert.InRange(count, 225, 275);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_EveryPacketOfAFlow_SamePathWithTheGatewaysMac(bool ipv6)
    {
        var f = new EcmpFixture();
        int[] first = PathsOf(f, ipv6);
        for (int i = 0; i < Flows; i++)
        {
            // Later packets of the flow differ in TTL, identification and length, none of which the hash reads.
            foreach ((byte ttl, int length) in new[] { ((byte)63, 24), ((byte)200, 700), ((byte)9, 4) })
            {
                (int path, byte[]? output) = f.Forward(Flow(ipv6, i, ttl, length));
                Assert.Equal(first[i], path);
                Assert.Equal(GatewayMac(path), MacAddress.Read(output!));
                Assert.Equal(NicMac(path + 2), MacAddress.Read(output.AsSpan(6)));
            }
        }
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(false, 20)]
    [InlineData(true, 20)]
    public void RemoveRoute_OneOfFour_OnlyItsFlowsMoveAndSpreadOverTheOthers(bool ipv6, int extraRoutes)
    {
        var f = new EcmpFixture(extraRoutes: extraRoutes);
        int[] before = PathsOf(f, ipv6);
        const int gone = 2;
        Assert.True(ipv6 ? f.Stack.RemoveRoute(Route6(gone)) : f.Stack.RemoveRoute(Route4(gone)));
        int[] after = PathsOf(f, ipv6);
        AssertOnlyMoved(before, after, gone);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DisableNic_OneOfFour_OnlyItsFlowsMoveAndAllComeBackWhenEnabled(bool ipv6)
    {
        var f = new EcmpFixture(extraRoutes: 20);
        int[] before = PathsOf(f, ipv6);
        const int down = 1;
        Assert.Equal(StackError.None, f.Stack.DisableNic(PathNic(down)));
        int[] during = PathsOf(f, ipv6);
        AssertOnlyMoved(before, during, down);
        Assert.Equal(StackError.None, f.Stack.EnableNic(PathNic(down)));
        // Taking a link down flushes its neighbours, static ones too (as Linux's neigh_ifdown does).
        f.Stack.Nics[PathNic(down)].Neighbors.AddStatic(Gateway4(down), GatewayMac(down));
        f.Stack.Nics[PathNic(down)].Ipv6Neighbors.AddStatic(Gateway6(down), GatewayMac(down));
        Assert.Equal(before, PathsOf(f, ipv6));
    }

    // Flows on other paths stay put; those on the one that left all move, and over each of the other three.
    private void AssertOnlyMoved(int[] before, int[] after, int gone)
    {
        int moved = 0;
        int[] landed = new int[Paths];
        for (int i = 0; i < before.Length; i++)
        {
            Assert.NotEqual(gone, after[i]);
            Assert.NotEqual(-1, after[i]);
            if (before[i] != gone)
            {
                Assert.Equal(before[i], after[i]);
                continue;
            }
            moved++;
            landed[after[i]]++;
        }
        _output.WriteLine($"moved {moved}: {string.Join(" ", landed)}");
        Assert.InRange(moved, 200, 300);
        for (int p = 0; p < Paths; p++)
        {
            if (p != gone)
                Assert.InRange(landed[p], moved / 6, moved / 2);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AddRoute_BackAfterRemoval_OnlyAboutAQuarterMoveAndOnlyToIt(bool ipv6)
    {
        var f = new EcmpFixture();
        const int path = 3;
        Assert.True(ipv6 ? f.Stack.RemoveRoute(Route6(path)) : f.Stack.RemoveRoute(Route4(path)));
        int[] three = PathsOf(f, ipv6);
        Assert.Equal(StackError.None, ipv6 ? f.Stack.AddRoute(Route6(path)) : f.Stack.AddRoute(Route4(path)));
        int[] four = PathsOf(f, ipv6);
        int moved = 0;
        for (int i = 0; i < Flows; i++)
        {
            if (three[i] == four[i])
                continue;
            Assert.Equal(path, four[i]);
            moved++;
        }
        _output.WriteLine($"moved {moved}");
        Assert.InRange(moved, 200, 300);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UnrelatedRouteChanges_NoFlowMoves(bool ipv6)
    {
        var f = new EcmpFixture(extraRoutes: 20);
        int[] before = PathsOf(f, ipv6);
        // Another group comes and goes, single routes change, and the whole table is set again with the group's
        // members in reverse order: every publication deals the group's buckets again, from the last deal.
        var other4 = new Ipv4Prefix(Ipv4Address.Parse("198.19.200.0"), 24);
        var other6 = Ipv6Prefix.Parse("2001:2:0:9000::/52");
        for (int p = 0; p < 2; p++)
        {
            Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv4Route(other4, Gateway4(p), PathNic(p).Value)));
            Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv6Route(other6, Gateway6(p), PathNic(p).Value)));
        }
        Assert.True(f.Stack.RemoveRoute(new Ipv4Route(other4, Gateway4(0), PathNic(0).Value)));
        Assert.True(f.Stack.RemoveRoute(new Ipv6Route(other6, Gateway6(0), PathNic(0).Value)));
        Assert.Equal(before, PathsOf(f, ipv6));

        RouteTable table = f.Stack.Routes;
        f.Stack.SetRoutes(table.Ipv4Routes.Reverse(), table.Ipv6Routes.Reverse());
        Assert.NotEqual(table.Ipv4Routes, f.Stack.Routes.Ipv4Routes);
        Assert.Equal(before, PathsOf(f, ipv6));
    }

    [Fact]
    public void Forward_Ipv4Fragments_AllTakeTheL3PathOfTheirDatagram()
    {
        var f = new EcmpFixture();
        var paths = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            // Datagram i: its first fragment carries the UDP ports, the later ones none; each source differs so the
            // datagrams spread (an L3 hash of one source and destination would put them all on one path).
            var source = new Ipv4Address(Host4.Value + (uint)i);
            ushort id = (ushort)(1000 + i);
            int first = f.Forward(Flow4(Beyond4, (ushort)(30000 + i), flagsFragment: 0x2000, id: id, payloadLength: 64, source: source)).Path;
            int middle = f.Forward(Flow4(Beyond4, 0xAAAA, flagsFragment: 0x2000 | 8, id: id, payloadLength: 64, source: source)).Path;
            int last = f.Forward(Flow4(Beyond4, 0x5555, flagsFragment: 16, id: id, payloadLength: 8, source: source)).Path;
            Assert.NotEqual(-1, first);
            Assert.Equal(first, middle);
            Assert.Equal(first, last);
            // Any fragment hashes as Layer 3: the same path as an unfragmented packet of the source under the L3 policy.
            Assert.Equal(first, f.Forward(Flow4(Beyond4, 1, protocol: 47, source: source)).Path);
            paths.Add(first);
        }
        Assert.Equal(Paths, paths.Count);
    }

    [Fact]
    public void Forward_Ipv6Fragments_AllTakeThePathOfTheirPacket()
    {
        var f = new EcmpFixture();
        var paths = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            // The fixed header's Next Header is Fragment in every fragment, so all hash as L3 with the flow label.
            uint label = (uint)(i * 2654435761 >> 12);
            byte[] udp = Payload((ushort)(30000 + i), 443, 64);
            int first = f.Forward(Fragment6(Beyond6, 0, more: true, (uint)i, udp, label)).Path;
            int last = f.Forward(Fragment6(Beyond6, 64, more: false, (uint)i, new byte[16], label)).Path;
            Assert.NotEqual(-1, first);
            Assert.Equal(first, last);
            paths.Add(first);
        }
        Assert.Equal(Paths, paths.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_Layer3Policy_PortsIgnoredAddressesSpread(bool ipv6)
    {
        var f = new EcmpFixture(MultipathHashPolicy.Layer3);
        Assert.Single(PathsOf(f, ipv6).Distinct());
        // Destinations (and for IPv6 flow labels) still spread.
        var byDestination = new HashSet<int>();
        for (int i = 0; i < 64; i++)
        {
            byte[] frame = ipv6
                ? Flow6(new Ipv6Address(Beyond6.High, Beyond6.Low + (ulong)i), 1)
                : Flow4(new Ipv4Address(Beyond4.Value + (uint)i), 1);
            byDestination.Add(f.Forward(frame).Path);
        }
        Assert.Equal(Paths, byDestination.Count);
        if (ipv6)
            Assert.Equal(Paths, Enumerable.Range(0, 64).Select(i => f.Forward(Flow6(Beyond6, 1, flowLabel: (uint)i * 977)).Path).Distinct().Count());
    }

    [Fact]
    public void SetMultipathHashPolicy_Layer3ThenLayer4_PortsCountAgain()
    {
        var f = new EcmpFixture();
        int[] l4 = PathsOf(f, ipv6: false);
        f.Stack.SetMultipathHashPolicy(MultipathHashPolicy.Layer3);
        Assert.Single(PathsOf(f, ipv6: false).Distinct());
        f.Stack.SetMultipathHashPolicy(MultipathHashPolicy.Layer4);
        Assert.Equal(l4, PathsOf(f, ipv6: false));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_Weights3And1_ThreeQuartersAndAQuarter(bool ipv6)
    {
        var f = new EcmpFixture(routes: false);
        Assert.Equal(StackError.None, ipv6 ? f.Stack.AddRoute(Route6(0, weight: 3)) : f.Stack.AddRoute(Route4(0, weight: 3)));
        Assert.Equal(StackError.None, ipv6 ? f.Stack.AddRoute(Route6(1)) : f.Stack.AddRoute(Route4(1)));
        int[] counts = Counts(PathsOf(f, ipv6));
        _output.WriteLine(string.Join(" ", counts));
        Assert.InRange(counts[0], 675, 825);
        Assert.InRange(counts[1], 175, 325);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_MultipathRoute_AllocatesNothing(bool ipv6)
    {
        var f = new EcmpFixture(extraRoutes: 20);
        byte[][] frames = [.. Enumerable.Range(0, 64).Select(i => Flow(ipv6, i))];
        byte[] sink = new byte[2048];
        int sent = 0;
        void Run()
        {
            foreach (byte[] frame in frames)
                f.Link(Ingress.Value).InjectInbound(frame);
            for (int p = 0; p < Paths; p++)
            {
                while (f.Link(p + 2).Read(sink) >= 0)
                    sent++;
            }
        }
        Run();
        sent = 0;
        Assert.Equal(0, AllocationWindow.Measure(Run, attempts: 3));
        Assert.Equal(frames.Length, sent);
    }
}
