using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.RouterFixture;

namespace XdpStack.Stack.Tests.Network.Ipv4;

/// <summary>ICMP Redirect (RFC 1812 §5.2.7.2) for packets that leave by the NIC they came in on.</summary>
public class Ipv4ForwarderRedirectTests
{
    private const int IcmpOffset = 34;
    private static readonly Ipv4Address HostA2 = Ipv4Address.Parse("198.18.1.20");
    private static readonly MacAddress HostA2Mac = MacAddress.Parse("02:00:00:00:01:14");
    private static readonly Ipv4Address Gateway1 = Ipv4Address.Parse("198.18.1.254");
    private static readonly MacAddress Gateway1Mac = MacAddress.Parse("02:00:00:00:01:fe");
    private static readonly Ipv4Address BeyondGateway1 = Ipv4Address.Parse("198.18.128.5");

    private static RouterFixture Make(bool sendRedirects = true, bool acceptSourceRoute = false)
    {
        var f = new RouterFixture(sendRedirects: sendRedirects, acceptSourceRoute: acceptSourceRoute);
        // Host A's own network holds another host and a second router, to 198.18.128.0/24.
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.128.0"), 24), Gateway1, 1)));
        f.Router1.Neighbors.AddStatic(HostA2, HostA2Mac);
        f.Router1.Neighbors.AddStatic(Gateway1, Gateway1Mac);
        f.Link1.Clear();
        return f;
    }

    [Theory]
    [InlineData("198.18.128.5", "198.18.1.254", "02:00:00:00:01:fe")]
    [InlineData("198.18.1.20", "198.18.1.20", "02:00:00:00:01:14")]
    public void Forward_OutTheWayItCame_RedirectToNextHopAndStillForwarded(string destination, string nextHop, string nextHopMac)
    {
        RouterFixture f = Make();
        Ipv4Address gateway = Ipv4Address.Parse(nextHop);
        byte[] sent = FromA(Ipv4Address.Parse(destination), ttl: 30);
        f.Link1.InjectInbound(sent);
        Assert.Empty(f.Link2.ReadAll());
        List<byte[]> out1 = f.Link1.ReadAll();
        Assert.Equal(2, out1.Count);
        byte[] redirect = Assert.Single(out1, frame => frame[23] == 1);
        byte[] forwarded = Assert.Single(out1, frame => frame[23] == 17);

        Assert.Equal(HostAMac, MacAddress.Read(redirect));
        Assert.Equal(Mac1, MacAddress.Read(redirect.AsSpan(6)));
        Assert.Equal(Ip1, Packets.IpSource(redirect));
        Assert.Equal(HostA, Packets.IpDestination(redirect));
        Assert.Equal(0, Checksum.Compute(redirect.AsSpan(14, 20)));
        Assert.Equal((byte)Icmpv4Type.Redirect, redirect[IcmpOffset]);
        Assert.Equal(1, redirect[IcmpOffset + 1]);
        Assert.Equal(gateway, Ipv4Address.Read(redirect.AsSpan(IcmpOffset + 4)));
        Assert.Equal(0, Checksum.Compute(redirect.AsSpan(IcmpOffset)));
        // The quote is the packet as Linux's ip_forward has it when it sends the Redirect: TTL already decremented
        // (checked on the wire), header checksum patched to match, then at least 64 bits of data.
        byte[] quote = redirect[(IcmpOffset + 8)..(IcmpOffset + 36)];
        Assert.Equal(29, quote[8]);
        Assert.Equal(0, Checksum.Compute(quote.AsSpan(0, 20)));
        Assert.Equal(sent[14..22], quote[..8]);
        Assert.Equal(sent[23..24], quote[9..10]);
        Assert.Equal(sent[26..42], quote[12..28]);

        Assert.Equal(MacAddress.Parse(nextHopMac), MacAddress.Read(forwarded));
        Assert.Equal(Mac1, MacAddress.Read(forwarded.AsSpan(6)));
        Assert.Equal(29, forwarded[22]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 20)));
        Assert.Equal(sent[26..], forwarded[26..]);

        Assert.Equal(1, f.Router1.Stats[StatCounter.IcmpRedirectsSent]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void Forward_RedirectOnSecondNetwork_ComesFromOurAddressThere()
    {
        // Hosts accept a Redirect only from their current gateway, our address on their network.
        RouterFixture f = Make();
        Ipv4Address second = Ipv4Address.Parse("198.18.5.1");
        Ipv4Address sender = Ipv4Address.Parse("198.18.5.10");
        Ipv4Address neighbour = Ipv4Address.Parse("198.18.5.20");
        Assert.Equal(StackError.None, f.Stack.AddAddress(Nic1, second, 24));
        Assert.Equal(StackError.None, f.Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.5.0"), 24), Ipv4Address.Any, 1)));
        f.Router1.Neighbors.AddStatic(neighbour, HostA2Mac);
        f.Link1.Clear();
        f.Link1.InjectInbound(FromA(neighbour, source: sender));
        byte[] redirect = Assert.Single(f.Link1.ReadAll(), frame => frame[23] == 1);
        Assert.Equal(second, Packets.IpSource(redirect));
        Assert.Equal(sender, Packets.IpDestination(redirect));
        Assert.Equal(neighbour, Ipv4Address.Read(redirect.AsSpan(IcmpOffset + 4)));
    }

    [Fact]
    public void Forward_RedirectsOff_ForwardedOnly()
    {
        RouterFixture f = Make(sendRedirects: false);
        f.Link1.InjectInbound(FromA(BeyondGateway1));
        byte[] forwarded = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(Gateway1Mac, MacAddress.Read(forwarded));
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRedirectsSent]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void StackOptions_SendRedirects_OnByDefaultAsLinux()
    {
        Assert.True(new StackOptions().SendRedirects);
        Assert.False(new StackOptions().AcceptSourceRoute);
    }

    [Fact]
    public void Forward_SourceNotOnIngressSubnet_NoRedirect()
    {
        // A sender beyond some other router on link 1: it cannot use a redirect to reach a host it does not share a network with.
        RouterFixture f = Make();
        f.Link1.InjectInbound(FromA(BeyondGateway1, source: Ipv4Address.Parse("198.18.99.7")));
        byte[] forwarded = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(17, forwarded[23]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRedirectsSent]);
    }

    [Fact]
    public void Forward_OutAnotherNic_NoRedirect()
    {
        RouterFixture f = Make();
        f.Link1.InjectInbound(FromA(HostB));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Single(f.Link2.ReadAll());
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRedirectsSent]);
    }

    [Fact]
    public void Forward_SourceRouted_NoRedirect()
    {
        RouterFixture f = Make(acceptSourceRoute: true);
        byte[] options = [131, 7, 4, .. Bytes(HostA2), 0];
        f.Link1.InjectInbound(FromAWithOptions(Ip1, options));
        byte[] forwarded = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(HostA2Mac, MacAddress.Read(forwarded));
        Assert.Equal(HostA2, Packets.IpDestination(forwarded));
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRedirectsSent]);
    }

    [Fact]
    public void Forward_ManyRedirectable_RedirectsRateLimitedEveryPacketForwarded()
    {
        RouterFixture f = Make();
        int redirects = 0, forwarded = 0;
        for (int i = 0; i < 200; i++)
        {
            f.Link1.InjectInbound(FromA(BeyondGateway1));
            foreach (byte[] frame in f.Link1.ReadAll())
            {
                if (frame[23] == 1)
                    redirects++;
                else
                    forwarded++;
            }
        }
        Assert.Equal(200, forwarded);
        // The manual clock stands still: the host gets its first Redirect and no more (Linux's backoff).
        Assert.Equal(1, redirects);
        Assert.Equal(199, f.Router1.Stats[StatCounter.IcmpRateLimitedHost]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRateLimited]);
        Assert.Equal(200, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void Forward_Redirects_BackOffAsLinuxThenStopAfterNineUntil20SecondsOfSilence()
    {
        RouterFixture f = Make();
        bool Redirected()
        {
            f.Link1.InjectInbound(FromA(BeyondGateway1));
            return f.Link1.ReadAll().Count(frame => frame[23] == 1) == 1;
        }

        // ip_rt_send_redirect: the n-th Redirect waits for more than 20 ms << n after the one before.
        Assert.True(Redirected());
        for (int n = 1; n < 9; n++)
        {
            f.Clock.Advance(TimeSpan.FromMilliseconds(20 << n));
            Assert.False(Redirected(), $"redirect {n + 1} at exactly {20 << n} ms");
            f.Clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(Redirected(), $"redirect {n + 1} after {(20 << n) + 1} ms");
        }
        Assert.Equal(9, f.Router1.Stats[StatCounter.IcmpRedirectsSent]);

        // Nine ignored: none however long the wait, as long as the host keeps sending within 20.48 s.
        for (int i = 0; i < 3; i++)
        {
            f.Clock.Advance(TimeSpan.FromSeconds(20));
            Assert.False(Redirected());
        }
        // A silence longer than 20.48 s starts again, and another host was never held back.
        f.Clock.Advance(TimeSpan.FromMilliseconds(20_481));
        Assert.True(Redirected());
        f.Link1.InjectInbound(FromA(BeyondGateway1, source: HostA2));
        Assert.Contains(f.Link1.ReadAll(), frame => frame[23] == 1);
    }

    [Fact]
    public void Forward_RedirectAboutIcmpError_NotSent()
    {
        // RFC 1812 §4.3.2.7: no ICMP error, Redirect included, about an ICMP error.
        RouterFixture f = Make();
        byte[] error = Packets.Ipv4(HostA, BeyondGateway1, 1, Packets.Icmp(3, 1, new byte[32]), to: Mac1, from: HostAMac);
        f.Link1.InjectInbound(error);
        byte[] forwarded = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(3, forwarded[IcmpOffset]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.IcmpErrorsSuppressed]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRedirectsSent]);
    }
}
