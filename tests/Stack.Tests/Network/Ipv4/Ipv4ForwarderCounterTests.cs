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
        Assert.Equal(50, f.Router1.Stats[StatCounter.IcmpTimeExceededSent]);
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
    public void Forward_Fragmented_CountedOnceAsForwarded()
    {
        var f = new RouterFixture(mtu2: 1280);
        f.Link1.InjectInbound(FromA(HostB, payloadLength: 2900));
        Assert.Equal(3, f.Link2.ReadAll().Count);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }
}
