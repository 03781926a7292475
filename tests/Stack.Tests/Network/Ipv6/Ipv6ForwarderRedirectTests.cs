using System.Buffers.Binary;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.Router6Fixture;

namespace XdpStack.Stack.Tests.Network.Ipv6;

/// <summary>NDP Redirect (RFC 4861 §8.2) for packets that leave by the NIC they came in on, as Linux's ip6_forward and ndisc_send_redirect send it.</summary>
public class Ipv6ForwarderRedirectTests
{
    private const int IpOffset = 14;
    private const int IcmpOffset = 54;
    private static readonly Ipv6Address LinkLocal1 = Ipv6Address.Parse("fe80::1");
    private static readonly Ipv6Address Router1Next = Ipv6Address.Parse("fe80::fe");
    private static readonly MacAddress Router1NextMac = MacAddress.Parse("02:00:00:00:01:fe");
    private static readonly Ipv6Address BeyondRouter1Next = Ipv6Address.Parse("2001:2:0:80::5");
    private static readonly Ipv6Address GlobalGateway1 = Ipv6Address.Parse("2001:2:0:1::fe");
    private static readonly Ipv6Address BeyondGlobalGateway1 = Ipv6Address.Parse("2001:2:0:90::5");
    private static readonly Ipv6Address Neighbour1 = Ipv6Address.Parse("2001:2:0:1::b");
    private static readonly MacAddress Neighbour1Mac = MacAddress.Parse("02:00:00:00:01:0b");

    private static Router6Fixture Make(bool linkLocal = true, bool sendRedirects = true)
    {
        var f = new Router6Fixture(sendRedirects: sendRedirects);
        if (linkLocal)
            Assert.Equal(StackError.None, f.Stack.AddAddress(Nic1, LinkLocal1, 64));
        // Host A's link holds another router (by its link-local address, as routers are known on a link), one by a
        // global address, and another host.
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:80::/64"), Router1Next, 1)));
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:90::/64"), GlobalGateway1, 1)));
        f.Router1.Ipv6Neighbors.AddStatic(Router1Next, Router1NextMac);
        f.Router1.Ipv6Neighbors.AddStatic(GlobalGateway1, Router1NextMac);
        f.Router1.Ipv6Neighbors.AddStatic(Neighbour1, Neighbour1Mac);
        f.Link1.Clear();
        return f;
    }

    private static bool IsRedirect(byte[] frame) => frame[IpOffset + 6] == 58 && frame[IcmpOffset] == (byte)Icmpv6Type.Redirect;

    [Theory]
    [InlineData("2001:2:0:80::5", "fe80::fe", "02:00:00:00:01:fe")]
    [InlineData("2001:2:0:1::b", "2001:2:0:1::b", "02:00:00:00:01:0b")]
    public void Forward_OutTheWayItCame_RedirectToTheBetterFirstHopAndStillForwarded(string destination, string target, string targetMac)
    {
        Router6Fixture f = Make();
        Ipv6Address to = Ipv6Address.Parse(destination);
        byte[] sent = FromA(to, hopLimit: 30);
        f.Link1.InjectInbound(sent);
        Assert.Empty(f.Link2.ReadAll());
        List<byte[]> out1 = f.Link1.ReadAll();
        Assert.Equal(2, out1.Count);
        byte[] redirect = Assert.Single(out1, IsRedirect);
        byte[] forwarded = Assert.Single(out1, frame => !IsRedirect(frame));

        // From our link-local address to the sender, hop limit 255, back to the MAC the packet came from.
        Assert.Equal(HostAMac, MacAddress.Read(redirect));
        Assert.Equal(Mac1, MacAddress.Read(redirect.AsSpan(6)));
        Assert.Equal(LinkLocal1, Ipv6Address.Read(redirect.AsSpan(IpOffset + 8)));
        Assert.Equal(HostA, Ipv6Address.Read(redirect.AsSpan(IpOffset + 24)));
        Assert.Equal(255, redirect[IpOffset + 7]);
        int icmpLength = BinaryPrimitives.ReadUInt16BigEndian(redirect.AsSpan(IpOffset + 4));
        Assert.Equal(redirect.Length - IcmpOffset, icmpLength);
        Assert.Equal(0, redirect[IcmpOffset + 1]);
        Assert.Equal(0, Packets6.Checksum6(LinkLocal1, HostA, 58, redirect.AsSpan(IcmpOffset)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(redirect.AsSpan(IcmpOffset + 4)));
        Assert.Equal(Ipv6Address.Parse(target), Ipv6Address.Read(redirect.AsSpan(IcmpOffset + 8)));
        Assert.Equal(to, Ipv6Address.Read(redirect.AsSpan(IcmpOffset + 24)));
        // Target Link-Layer Address (the cache knows it), then the Redirected Header: the packet as it arrived (hop
        // limit 30), in 8-octet units that include the option's own 8.
        Span<byte> options = redirect.AsSpan(IcmpOffset + 40);
        Assert.Equal(2, options[0]);
        Assert.Equal(1, options[1]);
        Assert.Equal(MacAddress.Parse(targetMac), MacAddress.Read(options[2..]));
        Span<byte> header = options[8..];
        Assert.Equal(4, header[0]);
        int packetLength = sent.Length - IpOffset;
        Assert.Equal((packetLength + 8) / 8, header[1]);
        Assert.Equal(new byte[6], header[2..8].ToArray());
        Assert.Equal(sent.AsSpan(IpOffset).ToArray(), header[8..(8 + packetLength)].ToArray());
        Assert.Equal(40 + 8 + ((packetLength + 8) & ~7), icmpLength);

        Assert.Equal(MacAddress.Parse(targetMac), MacAddress.Read(forwarded));
        Assert.Equal(29, forwarded[IpOffset + 7]);
        Assert.Equal(sent.AsSpan(IpOffset + 8).ToArray(), forwarded.AsSpan(IpOffset + 8).ToArray());

        Assert.Equal(1, f.Router1.Stats[StatCounter.Icmpv6RedirectsSent]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv6PacketsForwarded]);
    }

    [Fact]
    public void Forward_LargePacket_RedirectedHeaderCutSoTheRedirectFitsTheMinimumMtu()
    {
        Router6Fixture f = Make();
        f.Link1.InjectInbound(FromA(BeyondRouter1Next, payloadLength: 1400));
        byte[] redirect = Assert.Single(f.Link1.ReadAll(), IsRedirect);
        // Linux's rd_len: 1280 - 40 - 40 - 8 (the link-layer option) = 1192 octets of option, 1184 of them the packet.
        Assert.Equal(IpOffset + 1280, redirect.Length);
        Assert.Equal(4, redirect[IcmpOffset + 48]);
        Assert.Equal(1192 / 8, redirect[IcmpOffset + 49]);
    }

    [Fact]
    public void Forward_TargetWithoutAUsableLinkAddress_RedirectWithoutTheOption()
    {
        Router6Fixture f = Make();
        Ipv6Address unresolved = Ipv6Address.Parse("2001:2:0:1::c");
        f.Link1.InjectInbound(FromA(unresolved));
        // The packet waits for NDP; the Redirect goes out at once, with the Redirected Header right after the
        // fixed part.
        byte[] redirect = Assert.Single(f.Link1.ReadAll(), IsRedirect);
        Assert.Equal(unresolved, Ipv6Address.Read(redirect.AsSpan(IcmpOffset + 8)));
        Assert.Equal(4, redirect[IcmpOffset + 40]);
    }

    [Fact]
    public void Forward_GatewayNotLinkLocal_NoRedirect()
    {
        // ndisc_send_redirect: "target address is not link-local unicast", and the packet goes on.
        Router6Fixture f = Make();
        byte[] forwarded = Assert.Single(Inject(f, FromA(BeyondGlobalGateway1)));
        Assert.Equal(Router1NextMac, MacAddress.Read(forwarded));
        Assert.Equal(0, f.Router1.Stats[StatCounter.Icmpv6RedirectsSent]);
    }

    [Fact]
    public void Forward_NoLinkLocalAddressOnTheNic_NoRedirect()
    {
        // Linux: "Redirect: no link-local address on ...".
        Router6Fixture f = Make(linkLocal: false);
        byte[] forwarded = Assert.Single(Inject(f, FromA(BeyondRouter1Next)));
        Assert.Equal(Router1NextMac, MacAddress.Read(forwarded));
        Assert.Equal(0, f.Router1.Stats[StatCounter.Icmpv6RedirectsSent]);
    }

    [Fact]
    public void Forward_RedirectsOff_ForwardedOnly()
    {
        Router6Fixture f = Make(sendRedirects: false);
        Assert.Single(Inject(f, FromA(BeyondRouter1Next)));
        Assert.Equal(0, f.Router1.Stats[StatCounter.Icmpv6RedirectsSent]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv6PacketsForwarded]);
    }

    [Fact]
    public void Forward_ToAnotherLink_NoRedirect()
    {
        Router6Fixture f = Make();
        f.Link1.InjectInbound(FromA(HostB));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Single(f.Link2.ReadAll());
        Assert.Equal(0, f.Router1.Stats[StatCounter.Icmpv6RedirectsSent]);
    }

    [Fact]
    public void Forward_ManyToOneDestination_SixRedirectsThenOneASecond()
    {
        // inet_peer_xrlim_allow with 1 s and XRLIM_BURST_FACTOR 6; every packet is forwarded regardless.
        Router6Fixture f = Make();
        int redirects = 0;
        for (int i = 0; i < 20; i++)
            redirects += Inject(f, FromA(BeyondRouter1Next)).Count(IsRedirect);
        Assert.Equal(6, redirects);
        Assert.Equal(20, f.Router1.Stats[StatCounter.Ipv6PacketsForwarded]);
        f.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(Inject(f, FromA(BeyondRouter1Next)), IsRedirect);
        Assert.DoesNotContain(Inject(f, FromA(BeyondRouter1Next)), IsRedirect);
    }

    private static List<byte[]> Inject(Router6Fixture f, byte[] frame)
    {
        f.Link1.InjectInbound(frame);
        return f.Link1.ReadAll();
    }
}
