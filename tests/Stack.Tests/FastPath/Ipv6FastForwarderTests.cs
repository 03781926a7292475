using System.Buffers.Binary;
using CsCheck;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.Ipv6FastPathFixture;

namespace XdpStack.Stack.Tests.FastPath;

public class Ipv6FastForwarderTests
{
    private static readonly Ipv6Address Unresolved = Ipv6Address.Parse("2001:2:0:2::77");
    private static readonly Ipv6Address Unrouted = Ipv6Address.Parse("2001:2:0:3::1");

    private static (Ipv6FastPathFixture Fixture, Ipv6FastForwarder Fast) Make(int mtu2 = 1500)
    {
        var f = new Ipv6FastPathFixture(mtu2: mtu2);
        return (f, new Ipv6FastForwarder(f.Stack));
    }

    private static (ForwardVerdict Verdict, int Egress, byte[] Output) RunFast(Ipv6FastForwarder fast, NicId ingress, byte[] frame) =>
        FastPathRuns.One(fast.Forward, ingress, frame);

    [Fact]
    public void Forward_TransitToResolvedHost_RewrittenAndMarkedForEgress()
    {
        (_, Ipv6FastForwarder fast) = Make();
        byte[] sent = FromA(HostB, 255);
        (ForwardVerdict verdict, int egress, byte[] output) = RunFast(fast, Nic1, sent);
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(2, egress);
        Assert.Equal(HostBMac, MacAddress.Read(output));
        Assert.Equal(Mac2, MacAddress.Read(output.AsSpan(6)));
        Assert.Equal(254, output[21]);
        // Only the MACs and the hop limit change.
        Assert.Equal(sent.AsSpan(12, 9).ToArray(), output.AsSpan(12, 9).ToArray());
        Assert.Equal(sent.AsSpan(22).ToArray(), output.AsSpan(22).ToArray());
    }

    [Fact]
    public void Forward_ThroughGateway_GatewayMac()
    {
        (_, Ipv6FastForwarder fast) = Make();
        (ForwardVerdict verdict, int egress, byte[] output) = RunFast(fast, Nic1, FromA(BeyondGateway, 2));
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(2, egress);
        Assert.Equal(GatewayMac, MacAddress.Read(output));
        Assert.Equal(1, output[21]);
    }

    [Fact]
    public void Forward_BackOutOfANicWithALinkLocalAddress_LeftToTheFullStackWhichRedirects()
    {
        // With a link-local address to send from, such a frame may call for a Redirect (RFC 4861 §8.2), which only
        // the full stack sends; the snapshot is rebuilt when the address comes.
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(StackError.None, f.Stack.AddAddress(Nic1, Ipv6Address.Parse("fe80::1"), 64));
        byte[] sent = FromA(HostA, source: HostB);
        (ForwardVerdict verdict, _, byte[] output) = RunFast(fast, Nic1, sent);
        Assert.Equal(ForwardVerdict.SlowPath, verdict);
        Assert.Equal(sent, output);
        f.Link1.Clear();
        f.Link1.InjectInbound(sent);
        Assert.Equal(2, f.Link1.ReadAll().Count); // the Redirect to the sender and the packet itself
        Assert.Equal(1, f.Router1.Stats[StatCounter.Icmpv6RedirectsSent]);
    }

    [Fact]
    public void Forward_BackOutOfTheIngressNic_Taken()
    {
        // No link-local address on the NIC: no Redirect could be sent, so the fast path keeps the frame.
        (_, Ipv6FastForwarder fast) = Make();
        (ForwardVerdict verdict, int egress, byte[] output) = RunFast(fast, Nic1, FromA(HostA, source: HostB));
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(1, egress);
        Assert.Equal(HostAMac, MacAddress.Read(output));
        Assert.Equal(Mac1, MacAddress.Read(output.AsSpan(6)));
    }

    public static TheoryData<string, byte[]> HandedOver()
    {
        byte[] otherMac = FromA(HostB);
        otherMac[0] = 0x04;
        byte[] vlan = FromA(HostB);
        vlan[12] = 0x81;
        vlan[13] = 0x00;
        byte[] version4 = FromA(HostB);
        version4[14] = 0x45;
        byte[] lengthPastFrame = FromA(HostB);
        BinaryPrimitives.WriteUInt16BigEndian(lengthPastFrame.AsSpan(18), (ushort)(lengthPastFrame.Length - 54 + 1));
        byte[] truncated = FromA(HostB)[..53];
        return new TheoryData<string, byte[]>
        {
            { "hop limit 1", FromA(HostB, hopLimit: 1) },
            { "hop limit 0", FromA(HostB, hopLimit: 0) },
            { "other MAC", otherMac },
            { "VLAN tag", vlan },
            { "version 4 in an IPv6 EtherType", version4 },
            { "payload length past frame", lengthPastFrame },
            { "shorter than an IPv6 header", truncated },
            { "hop-by-hop options", FromAWithHopByHop(HostB) },
            { "router's own address", FromA(Ip1) },
            { "other NIC's address", FromA(Ip2) },
            { "subnet-router anycast", FromA(Ipv6Address.Parse("2001:2:0:2::")) },
            { "multicast", FromA(Ipv6Address.Parse("ff0e::1")) },
            { "all-nodes", FromA(Ipv6Address.AllNodes) },
            { "link-local destination", FromA(Ipv6Address.Parse("fe80::b")) },
            { "loopback destination", FromA(Ipv6Address.Loopback) },
            { "unspecified destination", FromA(Ipv6Address.Any) },
            { "link-local source", FromA(HostB, source: Ipv6Address.Parse("fe80::a")) },
            { "multicast source", FromA(HostB, source: Ipv6Address.Parse("ff02::1")) },
            { "unspecified source", FromA(HostB, source: Ipv6Address.Any) },
            { "loopback source", FromA(HostB, source: Ipv6Address.Loopback) },
            { "no route", FromA(Unrouted) },
            { "unresolved neighbour", FromA(Unresolved) },
            { "above egress MTU", FromA(HostB, payloadLength: 1300) },
        };
    }

    [Theory]
    [MemberData(nameof(HandedOver))]
    public void Forward_NotForTheFastPath_HandedOverUnchanged(string why, byte[] frame)
    {
        (_, Ipv6FastForwarder fast) = Make(mtu2: 1280);
        (ForwardVerdict verdict, _, byte[] output) = RunFast(fast, Nic1, frame);
        Assert.True(verdict == ForwardVerdict.SlowPath, why);
        Assert.Equal(frame, output);
    }

    [Fact]
    public void Forward_ExactlyTheEgressMtu_Taken()
    {
        (_, Ipv6FastForwarder fast) = Make(mtu2: 1280);
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB, payloadLength: 1280 - 48)).Verdict);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB, payloadLength: 1280 - 47)).Verdict);
    }

    [Fact]
    public void Forward_OtherExtensionHeaderFirst_Taken()
    {
        // Only Hop-by-Hop Options concern a router; a Destination Options header (60) rides through.
        (_, Ipv6FastForwarder fast) = Make();
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB, nextHeader: 60)).Verdict);
    }

    [Fact]
    public void Forward_Ipv4Frame_HandedOver()
    {
        (_, Ipv6FastForwarder fast) = Make();
        byte[] frame = Packets.Ipv4(Ipv4Address.Parse("198.18.1.10"), Ipv4Address.Parse("198.18.2.10"), 17, new byte[16], to: Mac1, from: HostAMac);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, frame).Verdict);
    }

    [Fact]
    public void Forward_UnknownIngressNic_HandedOver()
    {
        (_, Ipv6FastForwarder fast) = Make();
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, new NicId(9), FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_ForwardingOffAfterRefresh_HandedOver()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        f.Stack.SetForwarding(Nic1, EtherType.Ipv6, false, out _);
        fast.Refresh();
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_Ipv4ForwardingOnly_HandedOver()
    {
        var f = new Ipv6FastPathFixture(forwarding: false);
        Assert.Equal(StackError.None, f.Stack.SetForwarding(Nic1, EtherType.Ipv4, true, out _));
        using var fast = new Ipv6FastForwarder(f.Stack);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_PromiscuousIngress_HandedOver()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(StackError.None, f.Stack.SetPromiscuous(Nic1, true));
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_NeighbourLearnedThenRefresh_Taken()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        MacAddress lateMac = MacAddress.Parse("02:00:00:00:02:77");
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(Unresolved)).Verdict);
        f.Router2.Ipv6Neighbors.HandleProbe(Unresolved, lateMac);
        fast.Refresh();
        (ForwardVerdict verdict, int egress, byte[] output) = RunFast(fast, Nic1, FromA(Unresolved));
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(2, egress);
        Assert.Equal(lateMac, MacAddress.Read(output));
    }

    [Fact]
    public void Forward_RouteAddedAfterCreation_TakenOnceTheClockRuns()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(Unrouted)).Verdict);
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:3::/64"), Gateway, 2)));
        // Until the rebuild the snapshot is out of date, so everything goes to the full stack, even what it had right.
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(Unrouted)).Verdict);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        (ForwardVerdict verdict, int egress, byte[] output) = RunFast(fast, Nic1, FromA(Unrouted));
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(2, egress);
        Assert.Equal(GatewayMac, MacAddress.Read(output));
    }

    [Fact]
    public void Forward_RouteRemoved_HandedOverAtOnceAndAfterTheRebuild()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(BeyondGateway)).Verdict);
        Assert.True(f.Stack.RemoveRoute(new Ipv6Route(GatewayPrefix, Gateway, 2)));
        byte[] sent = FromA(BeyondGateway);
        (ForwardVerdict verdict, _, byte[] output) = RunFast(fast, Nic1, sent);
        Assert.Equal(ForwardVerdict.SlowPath, verdict);
        Assert.Equal(sent, output);
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(BeyondGateway)).Verdict);
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_EgressNicDisabled_HandedOverAtOnceAndAfterTheRebuild()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        Assert.Equal(StackError.None, f.Stack.DisableNic(Nic2));
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(f.Stack.ForwardingVersion, fast.Snapshot.StateVersion);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(BeyondGateway)).Verdict);
    }

    [Fact]
    public void Forward_ForwardingSwitchedOff_HandedOverAtOnceAndAfterTheRebuild()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(StackError.None, f.Stack.SetForwarding(Nic1, EtherType.Ipv6, false, out _));
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_DestinationBecomesLocalAddress_HandedOver()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(StackError.None, f.Stack.AddAddress(Nic2, HostB, 128));
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        Assert.Equal(StackError.None, f.Stack.RemoveAddress(Nic2, HostB));
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_ManyRoutesAddedOneByOne_OneRebuild()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        int timers = f.Clock.PendingTimers;
        for (int i = 0; i < 50; i++)
            Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv6Route(new Ipv6Prefix(new Ipv6Address(0x2001_0002_0000_4000UL + (uint)i, 0), 64), Gateway, 2)));
        Assert.Equal(timers + 1, f.Clock.PendingTimers);
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(timers, f.Clock.PendingTimers);
        (ForwardVerdict verdict, _, byte[] output) = RunFast(fast, Nic1, FromA(Ipv6Address.Parse("2001:2:0:4031::7")));
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(GatewayMac, MacAddress.Read(output));
    }

    [Fact]
    public void Forward_NeighbourMacChangedByAdvertisement_NewMacOnceTheClockRuns()
    {
        var f = new Ipv6FastPathFixture(resolveHostB: false);
        using var fast = new Ipv6FastForwarder(f.Stack);
        MacAddress newMac = MacAddress.Parse("02:00:00:00:02:0b");
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        // A Neighbor Solicitation from HostB teaches the router its MAC (a Stale entry).
        f.Link2.InjectInbound(Packets6.Solicitation(HostB, Ip2, HostBMac));
        f.Clock.Advance(TimeSpan.Zero);
        (ForwardVerdict verdict, _, byte[] output) = RunFast(fast, Nic1, FromA(HostB));
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(HostBMac, MacAddress.Read(output));
        // An unsolicited override advertisement moves HostB to another MAC; the rebuild runs on the clock.
        f.Link2.InjectInbound(Packets6.Advertisement(HostB, Ipv6Address.AllNodes, solicited: false, isOverride: true, newMac, from: newMac));
        f.Clock.Advance(TimeSpan.Zero);
        (verdict, _, output) = RunFast(fast, Nic1, FromA(HostB));
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(newMac, MacAddress.Read(output));
    }

    [Fact]
    public void Forward_NeighbourRemoved_HandedOverOnceTheClockRuns()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB)).Verdict);
        Assert.True(f.Router2.Ipv6Neighbors.Remove(HostB));
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_BurstOfNeighbourChanges_OneRebuild()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Ipv6ForwardingSnapshot before = fast.Snapshot;
        int timers = f.Clock.PendingTimers;
        for (int i = 0; i < 5; i++)
            f.Router2.Ipv6Neighbors.HandleProbe(new Ipv6Address(0x2001_0002_0000_0002UL, 0x100UL + (ulong)i), new MacAddress(0x0200_0000_0200UL + (ulong)i));
        // The receiving thread only schedules, once for the whole burst; the clock's thread rebuilds.
        Assert.Same(before, fast.Snapshot);
        Assert.Equal(timers + 1, f.Clock.PendingTimers);
        f.Clock.Advance(TimeSpan.Zero);
        Assert.NotSame(before, fast.Snapshot);
        Assert.Equal(timers, f.Clock.PendingTimers);
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(Ipv6Address.Parse("2001:2:0:2::104"))).Verdict);
    }

    [Fact]
    public void Forward_Ipv4NeighbourChange_NoIpv6Rebuild()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        int timers = f.Clock.PendingTimers;
        f.Router2.Neighbors.HandleProbe(Ipv4Address.Parse("198.18.2.9"), HostBMac);
        Assert.Equal(timers, f.Clock.PendingTimers);
        Assert.Equal(ForwardVerdict.Forward, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Dispose_StopsFollowingTheStack()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        Ipv6ForwardingSnapshot before = fast.Snapshot;
        fast.Dispose();
        int timers = f.Clock.PendingTimers;
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:3::/64"), Gateway, 2)));
        Assert.Equal(timers, f.Clock.PendingTimers);
        fast.Refresh();
        Assert.Same(before, fast.Snapshot);
        // Its snapshot is out of date from then on, so nothing is fast-forwarded on stale data.
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_EthernetPadding_TrimmedToPayloadLength()
    {
        (_, Ipv6FastForwarder fast) = Make();
        byte[] sent = FromA(HostB, payloadLength: 0);
        byte[] padded = new byte[sent.Length + 20];
        sent.CopyTo(padded, 0);
        (ForwardVerdict verdict, _, byte[] output) = RunFast(fast, Nic1, padded);
        Assert.Equal(ForwardVerdict.Forward, verdict);
        Assert.Equal(sent.Length, output.Length);
    }

    [Fact]
    public void Forward_NoForwarderInstalled_HandedOver()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        f.Stack.Ipv6Forwarder = null;
        f.Clock.Advance(TimeSpan.Zero);
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    [Fact]
    public void Forward_OtherForwarderInstalled_HandedOver()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        f.Stack.Ipv6Forwarder = new DroppingForwarder();
        fast.Refresh();
        Assert.Equal(ForwardVerdict.SlowPath, RunFast(fast, Nic1, FromA(HostB)).Verdict);
    }

    private sealed class DroppingForwarder : XdpStack.Stack.Network.Ipv6.IIpv6Forwarder
    {
        public void Forward(Nic ingress, int worker, Span<byte> frame, ref Frame descriptor)
        {
        }
    }

    [Fact]
    public void Forward_TransitToResolvedHost_SameBytesAsTheFullStack()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make();
        byte[] sent = FromA(HostB, 255);
        (ForwardVerdict verdict, _, byte[] output) = RunFast(fast, Nic1, sent);
        Assert.Equal(ForwardVerdict.Forward, verdict);
        f.Link1.InjectInbound(sent);
        Assert.Equal(output, Assert.Single(f.Link2.ReadAll()));
    }

    private static readonly Ipv6Address[] Destinations =
    [
        HostB, BeyondGateway, HostA, Ip1, Ip2, Unresolved, Unrouted,
        Ipv6Address.Parse("2001:2:0:2::"), Ipv6Address.Parse("2001:2:0:1::"), Ipv6Address.Parse("2001:2:1::1"),
        Ipv6Address.AllNodes, Ipv6Address.Parse("ff0e::1"), HostB.SolicitedNodeMulticast, Ipv6Address.Parse("fe80::b"),
        Ipv6Address.Loopback, Ipv6Address.Any, Ipv6Address.MapFromIpv4(Ipv4Address.Parse("198.18.2.10")),
    ];

    private static readonly Ipv6Address[] Sources =
    [
        HostA, HostB, Ip1, Ip2, Ipv6Address.Parse("fe80::a"), Ipv6Address.Any, Ipv6Address.Loopback, Ipv6Address.AllNodes,
    ];

    private static readonly byte[] NextHeaders = [17, 17, 17, 17, 0, 6, 43, 44, 58, 59, 60];

    [Fact]
    public void Forward_RandomAndCraftedFrames_FastOutputEqualsFullStackOutput()
    {
        (Ipv6FastPathFixture f, Ipv6FastForwarder fast) = Make(mtu2: 1280);
        // Everything else in 2001:2::/48 goes to the gateway, so random destinations inside it are routed.
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2::/48"), Gateway, 2)));
        // A quarter of those random destinations sit behind a multipath route over the gateway, host B and an
        // unresolved neighbour (whose buckets the fast path leaves to the full stack), so the flow hash picks the MAC.
        foreach (Ipv6Address nextHop in new[] { Gateway, HostB, Unresolved })
            Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:c000::/50"), nextHop, 2)));
        f.Clock.Advance(TimeSpan.Zero);
        int taken = 0;
        Gen<Ipv6Address> genRandom = Gen.Select(Gen.UShort, Gen.ULong).Select((group, low) => new Ipv6Address(0x2001_0002_0000_0000UL | group, low));
        Gen<Ipv6Address> genDestination = Gen.Frequency((6, Gen.Int[0, Destinations.Length - 1].Select(i => Destinations[i])), (2, genRandom));
        Gen<Ipv6Address> genSource = Gen.Frequency((6, Gen.Int[0, Sources.Length - 1].Select(i => Sources[i])), (1, genRandom));
        Gen<byte> genHopLimit = Gen.Frequency((4, Gen.Int[0, 255].Select(i => (byte)i)), (2, Gen.Int[0, 2].Select(i => (byte)i)), (1, Gen.Const((byte)255)));
        Gen<byte> genNextHeader = Gen.Frequency((8, Gen.Int[0, NextHeaders.Length - 1].Select(i => NextHeaders[i])), (1, Gen.Int[0, 255].Select(i => (byte)i)));
        Gen<(bool, int, byte)> genFlip = Gen.Select(Gen.Frequency((5, Gen.Const(false)), (1, Gen.Const(true))),
            Gen.Frequency((1, Gen.Int[0, 5]), (3, Gen.Int[0, 61])), Gen.Int[1, 255].Select(i => (byte)i));
        // A flip changes one byte of the Ethernet or IPv6 header (a wrong MAC one time in four). Cut: 0 keeps the frame whole; otherwise the frame is cut to that many bytes (truncated).
        Gen<int> genCut = Gen.Frequency((12, Gen.Const(0)), (1, Gen.Int[1, 80]));
        Gen.Select(Gen.Select(genDestination, genSource, genHopLimit, genNextHeader), Gen.Int[0, 1400], Gen.Bool, genFlip, Gen.Select(Gen.Int[0, 20], genCut))
            .Sample((packet, payload, fromNic2, flip, shape) =>
            {
                (Ipv6Address destination, Ipv6Address source, byte hopLimit, byte nextHeader) = packet;
                byte[] frame = nextHeader == 0 ? FromAWithHopByHop(destination, hopLimit, source, payload) : FromA(destination, hopLimit, payload, source, nextHeader);
                NicId ingress = Nic1;
                if (fromNic2)
                {
                    ingress = Nic2;
                    Mac2.CopyTo(frame);
                    HostBMac.CopyTo(frame.AsSpan(6));
                }
                if (flip.Item1)
                    frame[flip.Item2] ^= flip.Item3;
                (int padding, int cut) = shape;
                if (cut > 0 && cut < frame.Length)
                    frame = frame[..cut];
                else if (padding > 0)
                    Array.Resize(ref frame, Math.Min(frame.Length + padding, 1514));
                (ForwardVerdict verdict, int egress, byte[] output) = RunFast(fast, ingress, frame);
                if (verdict == ForwardVerdict.SlowPath)
                {
                    Assert.Equal(frame, output);
                    return;
                }
                taken++;
                ChannelEndpoint inLink = ingress == Nic1 ? f.Link1 : f.Link2;
                inLink.InjectInbound(frame);
                List<byte[]> out1 = f.Link1.ReadAll();
                List<byte[]> out2 = f.Link2.ReadAll();
                Assert.Empty(egress == 1 ? out2 : out1);
                Assert.Equal(output, Assert.Single(egress == 1 ? out1 : out2));
            // One thread: every iteration shares one stack, its worker-0 state and its links, which (like a real
            // worker) are not for concurrent use; CsCheck samples on all cores by default.
            }, iter: 4000, threads: 1);
        // The generator must reach the fast path often, or the comparison proves little.
        Assert.True(taken > 200, $"only {taken} frames took the fast path");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void Forward_MixedBatchAnyLaneCount_SameVerdictsAsOneByOne(int lanes)
    {
        (_, Ipv6FastForwarder fast) = Make(mtu2: 1280);
        Ipv6Address[] destinations = [HostB, BeyondGateway, HostA, Unresolved, Unrouted, Ip1, Ipv6Address.Parse("2001:2:0:ffff::1"), Ipv6Address.Parse("ff02::1")];
        const int count = 300;   // over one chunk of 256, and not a multiple of 4 or 8
        var sent = new byte[count][];
        byte[] memory = new byte[count * 2048];
        var frames = new Frame[count];
        for (int i = 0; i < count; i++)
        {
            sent[i] = FromA(destinations[(i * 7) % destinations.Length], (byte)(i % 5), payloadLength: i % 3 == 0 ? 1300 : 20);
            sent[i].CopyTo(memory, i * 2048);
            frames[i] = new Frame(i * 2048, sent[i].Length);
        }
        var verdicts = new ForwardVerdict[count];
        int[] egress = new int[count];
        fast.LookupLanes = lanes;
        int forwarded = fast.Forward(Nic1, memory, frames, verdicts, egress);
        fast.LookupLanes = 8;
        int expectedForwarded = 0;
        for (int i = 0; i < count; i++)
        {
            (ForwardVerdict verdict, int e, byte[] output) = RunFast(fast, Nic1, sent[i]);
            Assert.Equal(verdict, verdicts[i]);
            Assert.Equal(output, memory.AsSpan(frames[i].Offset, frames[i].Length).ToArray());
            if (verdict == ForwardVerdict.Forward)
            {
                Assert.Equal(e, egress[i]);
                expectedForwarded++;
            }
        }
        Assert.Equal(expectedForwarded, forwarded);
        Assert.True(forwarded > 20, $"only {forwarded} forwarded");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void Forward_Batches_AllocateNothing(int lanes)
    {
        (_, Ipv6FastForwarder fast) = Make();
        fast.LookupLanes = lanes;
        const int count = 512;
        (long allocated, int forwarded) = FastPathRuns.Batch(fast.Forward, Nic1, FromA(HostB, 255), count);
        Assert.Equal(0, allocated);
        Assert.Equal(count, forwarded);
    }
}
