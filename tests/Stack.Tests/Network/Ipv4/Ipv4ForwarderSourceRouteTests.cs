using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.RouterFixture;

namespace XdpStack.Stack.Tests.Network.Ipv4;

/// <summary>Loose and Strict Source Route (RFC 791, RFC 1812 §5.2.4.1), off by default as Linux's accept_source_route=0.</summary>
public class Ipv4ForwarderSourceRouteTests
{
    private const int IcmpOffset = 34;
    private const byte Loose = 131;
    private const byte Strict = 137;

    private static byte[] Route(byte kind, params Ipv4Address[] hops) => Route(kind, 4, hops);

    private static byte[] Route(byte kind, int pointer, params Ipv4Address[] hops)
    {
        // Type, length, pointer, the addresses, then End of List up to a 4-byte boundary.
        var options = new List<byte> { kind, (byte)(3 + 4 * hops.Length), (byte)pointer };
        foreach (Ipv4Address hop in hops)
            options.AddRange(Bytes(hop));
        while (options.Count % 4 != 0)
            options.Add(0);
        return [.. options];
    }

    [Theory]
    [InlineData(Loose)]
    [InlineData(Strict)]
    public void Forward_SourceRouteToUsNotAccepted_DroppedCountedNoIcmp(byte kind)
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(FromAWithOptions(Ip1, Route(kind, HostB)));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4SourceRouteDrops]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4PacketsDelivered]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Theory]
    [InlineData(Loose)]
    [InlineData(Strict)]
    public void Forward_SourceRouteInTransitNotAccepted_DroppedCountedNoIcmp(byte kind)
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(FromAWithOptions(HostB, Route(kind, BeyondGateway)));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4SourceRouteDrops]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void Receive_FinishedSourceRouteNotAccepted_NotDelivered()
    {
        // Linux drops every source-routed packet, ours included, when accept_source_route is 0.
        var f = new RouterFixture();
        byte[] echo = EchoWithOptions(Ip1, Route(Loose, 8, HostA));
        f.Link1.InjectInbound(echo);
        Assert.Empty(f.Link1.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4SourceRouteDrops]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpEchoRequestsReceived]);
    }

    [Fact]
    public void Receive_FinishedSourceRouteAccepted_DeliveredAndAnswered()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        f.Link1.InjectInbound(EchoWithOptions(Ip1, Route(Loose, 8, HostA)));
        byte[] reply = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(Ip1, Packets.IpSource(reply));
        Assert.Equal(1, f.Router1.Stats[StatCounter.IcmpEchoRepliesSent]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4SourceRouteDrops]);
    }

    [Theory]
    [InlineData(Loose)]
    [InlineData(Strict)]
    public void Forward_SourceRouteToUsOnLinkNext_DestinationReplacedOurAddressRecorded(byte kind)
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        byte[] options = Route(kind, HostB);
        byte[] sent = FromAWithOptions(Ip1, options, ttl: 9);
        f.Link1.InjectInbound(sent);
        Assert.Empty(f.Link1.ReadAll());
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(HostBMac, MacAddress.Read(forwarded));
        Assert.Equal(Mac2, MacAddress.Read(forwarded.AsSpan(6)));
        Assert.Equal(HostB, Packets.IpDestination(forwarded));
        Assert.Equal(HostA, Packets.IpSource(forwarded));
        Assert.Equal(8, forwarded[22]);
        byte[] expected = [kind, 7, 8, .. Bytes(Ip2), 0];
        Assert.Equal(expected, forwarded[34..42]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 28)));
        Assert.Equal(sent[42..], forwarded[42..]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4PacketsDelivered]);
    }

    [Fact]
    public void Forward_LooseSourceRouteNextBeyondGateway_ForwardedToGateway()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        f.Link1.InjectInbound(FromAWithOptions(Ip1, Route(Loose, BeyondGateway, HostA)));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(GatewayMac, MacAddress.Read(forwarded));
        Assert.Equal(BeyondGateway, Packets.IpDestination(forwarded));
        byte[] expected = [Loose, 11, 8, .. Bytes(Ip2), .. Bytes(HostA), 0];
        Assert.Equal(expected, forwarded[34..46]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 32)));
    }

    [Fact]
    public void Forward_StrictSourceRouteNextBeyondGateway_SourceRouteFailed()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        byte[] sent = FromAWithOptions(Ip1, Route(Strict, BeyondGateway));
        f.Link1.InjectInbound(sent);
        Assert.Empty(f.Link2.ReadAll());
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(HostAMac, MacAddress.Read(error));
        Assert.Equal(Ip1, Packets.IpSource(error));
        Assert.Equal(HostA, Packets.IpDestination(error));
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, error[IcmpOffset]);
        Assert.Equal(5, error[IcmpOffset + 1]);
        Assert.Equal(0, Checksum.Compute(error.AsSpan(IcmpOffset)));
        Assert.Equal(sent[14..50], error[(IcmpOffset + 8)..(IcmpOffset + 44)]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4SourceRouteFailed]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void Forward_StrictSourceRouteNotNamingUs_ParameterProblemAtDestination()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        f.Link1.InjectInbound(FromAWithOptions(HostB, Route(Strict, BeyondGateway)));
        Assert.Empty(f.Link2.ReadAll());
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv4Type.ParameterProblem, error[IcmpOffset]);
        Assert.Equal(0, error[IcmpOffset + 1]);
        Assert.Equal(16, error[IcmpOffset + 4]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4SourceRouteFailed]);
    }

    [Fact]
    public void Forward_LooseSourceRouteNotNamingUs_ForwardedOptionUntouched()
    {
        // Loose routes may pass routers they do not name; only the named ones rewrite them.
        var f = new RouterFixture(acceptSourceRoute: true);
        byte[] options = Route(Loose, BeyondGateway);
        f.Link1.InjectInbound(FromAWithOptions(HostB, options));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(HostB, Packets.IpDestination(forwarded));
        Assert.Equal(options, forwarded[34..42]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 28)));
    }

    [Fact]
    public void Forward_SourceRouteToOtherNicsAddress_FollowedToo()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        f.Link1.InjectInbound(FromAWithOptions(Ip2, Route(Loose, HostB)));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(HostB, Packets.IpDestination(forwarded));
        Assert.Equal(Ip2, Ipv4Address.Read(forwarded.AsSpan(37)));
    }

    [Fact]
    public void Forward_SourceRouteNamesUsAgain_SkippedToNextAddress()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        f.Link1.InjectInbound(FromAWithOptions(Ip1, Route(Loose, Ip2, HostB)));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(HostB, Packets.IpDestination(forwarded));
        byte[] expected = [Loose, 11, 12, .. Bytes(Ip2), .. Bytes(Ip2), 0];
        Assert.Equal(expected, forwarded[34..46]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 32)));
    }

    [Fact]
    public void Forward_SourceRouteNextHasNoRoute_NetUnreachable()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        f.Link1.InjectInbound(FromAWithOptions(Ip1, Route(Loose, Ipv4Address.Parse("198.19.200.1"))));
        Assert.Empty(f.Link2.ReadAll());
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, error[IcmpOffset]);
        Assert.Equal(0, error[IcmpOffset + 1]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4ForwardNoRoute]);
    }

    [Fact]
    public void Forward_SourceRouteNextIsMulticast_DroppedNoIcmp()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        f.Link1.InjectInbound(FromAWithOptions(Ip1, Route(Loose, Ipv4Address.Parse("224.0.0.9"))));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
    }

    [Fact]
    public void Forward_SourceRouteAcceptedButNicNotForwarding_DroppedCounted()
    {
        var f = new RouterFixture(forwarding: false, acceptSourceRoute: true);
        f.Link1.InjectInbound(FromAWithOptions(Ip1, Route(Loose, HostB)));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4SourceRouteDrops]);
    }

    [Fact]
    public void Forward_SourceRouteToUsTtlOne_TimeExceededQuotesPacketAsReceived()
    {
        var f = new RouterFixture(acceptSourceRoute: true);
        byte[] sent = FromAWithOptions(Ip1, Route(Loose, HostB), ttl: 1);
        f.Link1.InjectInbound(sent);
        Assert.Empty(f.Link2.ReadAll());
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv4Type.TimeExceeded, error[IcmpOffset]);
        Assert.Equal(sent[14..50], error[(IcmpOffset + 8)..(IcmpOffset + 44)]);
    }

    private static byte[] EchoWithOptions(Ipv4Address destination, byte[] options)
    {
        byte[] frame = Packets.Ipv4(HostA, destination, 1, Packets.Icmp(8, 0, new byte[12]), to: Mac1, from: HostAMac, ihl: 5 + options.Length / 4);
        options.CopyTo(frame, 34);
        // Packets.Ipv4 summed the header with zero options and wrote the payload after them.
        frame[24] = frame[25] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), Checksum.Compute(frame.AsSpan(14, 20 + options.Length)));
        return frame;
    }
}
