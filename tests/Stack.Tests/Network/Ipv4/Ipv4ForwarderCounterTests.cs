using CsCheck;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.RouterFixture;

namespace XdpStack.Stack.Tests.Network.Ipv4;

/// <summary>Each outcome of the forwarder moves its own counter on the ingress NIC, and only packets that leave count as forwarded.</summary>
public class Ipv4ForwarderCounterTests
{
    // Every counter the forwarder may move for a packet it does not forward.
    private static readonly StatCounter[] Outcomes =
    [
        StatCounter.Ipv4PacketsForwarded,
        StatCounter.Ipv4ForwardNoRoute,
        StatCounter.Ipv4DirectedBroadcastsNotForwarded,
        StatCounter.Ipv4ForwardTtlExceeded,
        StatCounter.Ipv4ForwardPacketTooBig,
        StatCounter.Ipv4ForwardOptionErrors,
        StatCounter.Ipv4SourceRouteDrops,
        StatCounter.Ipv4SourceRouteFailed,
        StatCounter.Ipv4InvalidSourceAddressesReceived,
        StatCounter.Ipv4InvalidDestinationAddressesReceived,
        StatCounter.Ipv4MalformedPacketsReceived,
        StatCounter.Ipv4PacketsDelivered,
    ];

    public static TheoryData<string, StatCounter> Cases => new()
    {
        { "forwarded", StatCounter.Ipv4PacketsForwarded },
        { "ttl", StatCounter.Ipv4ForwardTtlExceeded },
        { "noroute", StatCounter.Ipv4ForwardNoRoute },
        { "martian", StatCounter.Ipv4InvalidSourceAddressesReceived },
        { "unroutable", StatCounter.Ipv4InvalidDestinationAddressesReceived },
        { "fragneeded", StatCounter.Ipv4ForwardPacketTooBig },
        { "options", StatCounter.Ipv4ForwardOptionErrors },
        { "sourceroute", StatCounter.Ipv4SourceRouteDrops },
        { "directedbroadcast", StatCounter.Ipv4DirectedBroadcastsNotForwarded },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_EachOutcome_MovesOnlyItsCounter(string outcome, StatCounter expected)
    {
        var f = new RouterFixture(mtu2: 1280);
        byte[] frame = outcome switch
        {
            "forwarded" => FromA(HostB),
            "ttl" => FromA(HostB, ttl: 1),
            "noroute" => FromA(Ipv4Address.Parse("198.19.200.1")),
            "martian" => FromA(HostB, source: Ipv4Address.Parse("0.1.2.3")),
            "unroutable" => FromA(Ipv4Address.Parse("240.1.1.1")),
            "fragneeded" => FromA(HostB, payloadLength: 1400, flags: 0x4000),
            "options" => FromAWithOptions(HostB, [7, 7, 3, 0, 0, 0, 0, 0]),
            "sourceroute" => FromAWithOptions(HostB, [131, 7, 4, 198, 18, 70, 5, 0]),
            // Router 2's subnet broadcast, 198.18.2.255: Linux neither forwards nor answers it.
            "directedbroadcast" => FromA(Ipv4Address.Parse("198.18.2.255"), ttl: 1),
            _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
        };
        f.Link1.InjectInbound(frame);
        foreach (StatCounter counter in Outcomes)
            Assert.True((counter == expected ? 1 : 0) == f.Router1.Stats[counter], $"{counter} is {f.Router1.Stats[counter]}");
        // Egress side: only a forwarded packet was sent there.
        Assert.Equal(expected == StatCounter.Ipv4PacketsForwarded ? 1 : 0, f.Router2.Stats[StatCounter.Ipv4PacketsSent]);
        Assert.Equal(0, f.Router2.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void Forward_TimeExceededRateLimited_EveryDropStillCounted()
    {
        var f = new RouterFixture();
        for (int i = 0; i < 200; i++)
            f.Link1.InjectInbound(FromA(HostB, ttl: 1));
        Assert.Equal(200, f.Router1.Stats[StatCounter.Ipv4ForwardTtlExceeded]);
        // Host A's own limit: six errors, the rest refused and counted.
        Assert.Equal(6, f.Router1.Stats[StatCounter.IcmpTimeExceededSent]);
        Assert.Equal(194, f.Router1.Stats[StatCounter.IcmpRateLimitedHost]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void Forward_QueuedForResolution_CountedForwardedFailureCountedOnEgress()
    {
        var f = new RouterFixture(resolveHostB: false);
        f.Link1.InjectInbound(FromA(HostB));
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
        for (int i = 0; i < 10; i++)
            f.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, f.Router2.Stats[StatCounter.Ipv4OutgoingPacketErrors]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.IcmpDestinationUnreachableSent]);
    }

    [Fact]
    public void Forward_RandomOptions_OneOutcomeEachAndEveryHeaderSummed()
    {
        // Options built from the kinds the router acts on, with lengths, pointers and flags near the
        // edges, to us or through us: every packet ends in exactly one counted outcome, nothing
        // throws, and every frame the router sends has a valid header checksum.
        var f = new RouterFixture(acceptSourceRoute: true);
        var g = new RouterFixture();
        StatCounter[] outcomes = [.. Outcomes, StatCounter.Ipv4PacketsDelivered, StatCounter.Ipv4OptionErrorsReceived];
        outcomes = [.. outcomes.Distinct()];
        byte[] kinds = [0, 1, 7, 68, 131, 137, 148];
        Gen<byte[]> genOption = Gen.Select(Gen.Int[0, kinds.Length - 1], Gen.Int[0, 12], Gen.Int[0, 16], Gen.Int[0, 255], Gen.Byte.Array[0, 12])
            .Select((kind, length, pointer, flags, data) => (byte[])[kinds[kind], (byte)length, (byte)pointer, (byte)flags, .. data]);
        Gen<Ipv4Address> genDestination = Gen.Int[0, 3].Select(i => i switch { 0 => Ip1, 1 => Ip2, 2 => HostB, _ => BeyondGateway });
        Gen.Select(genOption.Array[1, 3], genDestination, Gen.Bool, Gen.Int[1, 3].Select(i => (byte)i))
            .Sample((parts, destination, accept, ttl) =>
            {
                byte[] options = [.. parts.SelectMany(p => p)];
                int padded = Math.Min(40, (options.Length + 3) & ~3);
                Array.Resize(ref options, padded);
                RouterFixture r = accept ? f : g;
                long before = outcomes.Sum(c => r.Router1.Stats[c]);
                r.Link1.InjectInbound(FromAWithOptions(destination, options, ttl: ttl));
                Assert.Equal(before + 1, outcomes.Sum(c => r.Router1.Stats[c]));
                foreach (byte[] frame in r.Link1.ReadAll().Concat(r.Link2.ReadAll()))
                    Assert.Equal(0, Checksum.Compute(frame.AsSpan(14, (frame[14] & 0xF) * 4)));
            }, iter: 5000, threads: 1);
        // The generator must reach the common outcomes, or the property proves little. A failed strict
        // source route needs a well-formed route naming an unconnected next address, which random bytes
        // reach in only some runs; Ipv4ForwarderSourceRouteTests covers it deterministically.
        foreach (StatCounter counter in new[] { StatCounter.Ipv4PacketsForwarded, StatCounter.Ipv4ForwardOptionErrors, StatCounter.Ipv4ForwardTtlExceeded, StatCounter.Ipv4PacketsDelivered, StatCounter.Ipv4OptionErrorsReceived })
            Assert.True(f.Router1.Stats[counter] > 0, $"{counter} never counted");
        Assert.True(g.Router1.Stats[StatCounter.Ipv4SourceRouteDrops] > 0);
        Assert.True(f.Router2.Stats[StatCounter.Ipv4PacketsSent] > 0);
    }

    [Fact]
    public void Forward_Fragmented_CountedOnceAsForwarded()
    {
        var f = new RouterFixture(mtu2: 1280);
        f.Link1.InjectInbound(FromA(HostB, payloadLength: 2900));
        Assert.Equal(3, f.Link2.ReadAll().Count);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }
}
