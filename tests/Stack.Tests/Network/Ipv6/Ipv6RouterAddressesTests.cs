using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.Router6Fixture;

namespace XdpStack.Stack.Tests.Network.Ipv6;

// What a Linux router answers for beyond its unicast addresses while it forwards IPv6 (checked on the wire,
// tools/linux-diff/probes/ipv6-router-addresses.txt): the Subnet-Router anycast address of each prefix (RFC 4291
// §2.6.1), and the all-routers groups ff02::2 and ff05::2 (§2.7.1).
public class Ipv6RouterAddressesTests
{
    private const int IcmpOffset = 14 + 40;
    private static readonly Ipv6Address Anycast1 = Ipv6Address.Parse("2001:2:0:1::");
    private static readonly Ipv6Address Anycast2 = Ipv6Address.Parse("2001:2:0:2::");

    private static byte[] EchoFromA(Ipv6Address destination, MacAddress? to = null)
    {
        byte[] echo = Packets6.Icmpv6(HostA, destination, 128, 0, 0x0001_0001, Packets6.EchoBody(12));
        return Packets6.Ipv6(HostA, destination, 58, echo, to: to ?? Mac1, from: HostAMac);
    }

    [Fact]
    public void Solicitation_ForTheSubnetRouterAnycast_AdvertisementWithoutOverride()
    {
        var f = new Router6Fixture();
        Ipv6Address group = Anycast1.SolicitedNodeMulticast;
        byte[] body = [.. new byte[16], 1, 1, .. new byte[6]];
        Anycast1.CopyTo(body);
        HostAMac.CopyTo(body.AsSpan(18));
        f.Link1.InjectInbound(Packets6.Ipv6(HostA, group, 58, Packets6.Icmpv6(HostA, group, 135, 0, 0, body), 255, to: MacAddress.FromIpv6Multicast(group), from: HostAMac));
        byte[] na = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv6Type.NeighborAdvertisement, na[IcmpOffset]);
        // Router and Solicited, not Override: others may answer for an anycast address.
        Assert.Equal(0xC0, na[IcmpOffset + 4]);
        Assert.Equal(Anycast1, new Ipv6Address(na.AsSpan(IcmpOffset + 8, 16)));
    }

    [Theory]
    [InlineData("2001:2:0:1::")]
    [InlineData("2001:2:0:2::")]
    public void Echo_ToASubnetRouterAnycast_AnsweredFromOurAddressOnTheRequestersLink(string anycast)
    {
        var f = new Router6Fixture();
        f.Link1.InjectInbound(EchoFromA(Ipv6Address.Parse(anycast)));
        Assert.Empty(f.Link2.ReadAll());
        byte[] reply = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv6Type.EchoReply, reply[IcmpOffset]);
        Assert.Equal(Ip1, Packets6.Source(reply));
        Assert.Equal(HostA, Packets6.Destination(reply));
        Assert.True(Packets6.IcmpChecksumValid(reply));
    }

    [Theory]
    [InlineData("ff02::2")]
    [InlineData("ff05::2")]
    public void Echo_ToAllRouters_Answered(string group)
    {
        var f = new Router6Fixture();
        Ipv6Address to = Ipv6Address.Parse(group);
        f.Link1.InjectInbound(EchoFromA(to, MacAddress.FromIpv6Multicast(to)));
        byte[] reply = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv6Type.EchoReply, reply[IcmpOffset]);
        Assert.Equal(Ip1, Packets6.Source(reply));
    }

    [Fact]
    public void NotForwarding_NeitherAnycastNorAllRouters()
    {
        var f = new Router6Fixture(forwarding: false);
        f.Link1.InjectInbound(EchoFromA(Anycast1));
        Ipv6Address allRouters = Ipv6Address.Parse("ff02::2");
        f.Link1.InjectInbound(EchoFromA(allRouters, MacAddress.FromIpv6Multicast(allRouters)));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
    }
}
