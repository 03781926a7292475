using System.Text.RegularExpressions;
using XdpStack.Lab;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Link;

/// <summary>The stack as the IPv6 router between two Linux hosts, each in its own namespace, over AF_PACKET sockets on veths; everything checked with Linux's own tools.</summary>
[Trait("Category", "Root")]
public class PacketSocketIpv6ForwardingTests
{
    private const string HostA = "2001:2:0:1::10";
    private const string HostB = "2001:2:0:2::10";
    private const string RouterA = "2001:2:0:1::1";
    private const string RouterB = "2001:2:0:2::1";

    // host A 2001:2:0:1::10 — [2001:2:0:1::1 router 2001:2:0:2::1] — host B 2001:2:0:2::10.
    private static PacketSocketRouterLab Topology() => new(
        (hostA, aDev, hostB, bDev) =>
        {
            // nodad: the addresses are usable at once instead of after duplicate address detection.
            hostA.Ip("-6", "addr", "add", $"{HostA}/64", "dev", aDev, "nodad");
            hostA.Ip("-6", "route", "add", "2001:2::/48", "via", RouterA);
            hostB.Ip("-6", "addr", "add", $"{HostB}/64", "dev", bDev, "nodad");
            hostB.Ip("-6", "route", "add", "2001:2::/48", "via", RouterB);
        },
        stack =>
        {
            Assert.Equal(StackError.None, stack.AddAddress(PacketSocketRouterLab.Left, Ipv6Address.Parse(RouterA), 64));
            Assert.Equal(StackError.None, stack.AddAddress(PacketSocketRouterLab.Right, Ipv6Address.Parse(RouterB), 64));
            Assert.Equal(StackError.None, stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:1::/64"), Ipv6Address.Any, 1)));
            Assert.Equal(StackError.None, stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:2::/64"), Ipv6Address.Any, 2)));
            stack.Ipv6Forwarder = new Ipv6Forwarder();
            Assert.Equal(StackError.None, stack.SetForwarding(PacketSocketRouterLab.Left, EtherType.Ipv6, true, out _));
            Assert.Equal(StackError.None, stack.SetForwarding(PacketSocketRouterLab.Right, EtherType.Ipv6, true, out _));
        });

    [Fact]
    public void Ping6_BothDirectionsThroughRouter_AllRepliesHopLimit63()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ab = t.HostA.Run(TimeSpan.FromSeconds(30), "ping", "-6", "-c", "5", "-i", "0.2", "-W", "2", HostB);
        Assert.True(ab.ExitCode == 0, ab.StandardOutput + ab.StandardError);
        Assert.Contains("5 received", ab.StandardOutput);
        // Replies crossed the router, so their hop limit is the host's 64 less one.
        Assert.Matches(new Regex("(ttl|hlim)=63"), ab.StandardOutput);
        CommandResult ba = t.HostB.Run(TimeSpan.FromSeconds(30), "ping", "-6", "-c", "5", "-i", "0.2", "-W", "2", HostA);
        Assert.True(ba.ExitCode == 0, ba.StandardOutput + ba.StandardError);
        Assert.Contains("5 received", ba.StandardOutput);
        Assert.Matches(new Regex("(ttl|hlim)=63"), ba.StandardOutput);
        Assert.True(t.Stack.Nics[new NicId(2)].Stats[StatCounter.Ipv6PacketsForwarded] >= 10);
        Assert.True(t.Stack.Nics[new NicId(1)].Stats[StatCounter.Ipv6PacketsForwarded] >= 10);
    }

    [Fact]
    public void Udp6_TwoThousandDatagramsAcrossRouter_AllArriveIntact()
    {
        using PacketSocketRouterLab t = Topology();
        // Warm NDP on both sides so the first datagrams do not wait.
        Assert.Equal(0, t.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "1", "-W", "2", HostB).ExitCode);
        (CommandResult sent, CommandResult received) = t.SendUdpFromAToB("AF_INET6", HostB, 2000);
        Assert.True(sent.ExitCode == 0, sent.StandardError);
        Assert.True(received.ExitCode == 0, received.StandardError);
        string[] lines = received.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines[^1] == "2000 0", $"received and corrupt: {lines[^1]}; router: {t.Counters()}");
    }

    [Fact]
    public void Ping6HopLimit1_TimeExceededFromRoutersAddress()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-6", "-c", "1", "-t", "1", "-W", "2", HostB);
        Assert.Contains($"From {RouterA}", ping.StandardOutput);
        Assert.Contains("Time exceeded: Hop limit", ping.StandardOutput);
    }

    [Fact]
    public void Ping6DontFragmentTooBig_PacketTooBigWithEgressMtuAndLinuxCachesIt()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-6", "-c", "1", "-M", "do", "-s", "1300", "-W", "2", HostB);
        Assert.Contains($"From {RouterA}", ping.StandardOutput);
        Assert.Contains("Packet too big: mtu=1280", ping.StandardOutput);
        // Linux took the MTU into its route cache (ip6_update_pmtu).
        string route = t.HostA.Check("ip", "-6", "route", "get", HostB);
        Assert.Contains("mtu 1280", route);
        Assert.True(t.Stack.Nics[new NicId(1)].Stats[StatCounter.Ipv6ForwardingPacketTooBig] >= 1);
    }

    [Fact]
    public void Ping6Size3000ToRoutersOwnAddresses_ThreeRepliesEachInFragments()
    {
        using PacketSocketRouterLab t = Topology();
        // Issue 11: the 3,048-octet replies leave in fragments cut to each link's MTU (1500 on A's
        // side, 1280 on B's), which Linux reassembles.
        foreach ((NetNamespace host, string router, int nic) in new[] { (t.HostA, RouterA, 1), (t.HostB, RouterB, 2) })
        {
            CommandResult ping = host.Run(TimeSpan.FromSeconds(30), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "-s", "3000", router);
            Assert.True(ping.ExitCode == 0, ping.StandardOutput + ping.StandardError + t.Counters());
            Assert.Contains("3 received", ping.StandardOutput);
            Assert.Contains($"3008 bytes from {router}", ping.StandardOutput);
            NicStats stats = t.Stack.Nics[new NicId(nic)].Stats;
            Assert.Equal(3, stats[StatCounter.Ipv6PacketsFragmented]);
            Assert.Equal(9, stats[StatCounter.Ipv6FragmentsCreated]);
            Assert.Equal(0, stats[StatCounter.Ipv6FragmentationFailures]);
        }
    }

    [Fact]
    public void Ping6UnroutedDestination_NoRouteUnreachableFromRouter()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-6", "-c", "1", "-W", "2", "2001:2:0:99::5");
        Assert.Contains($"From {RouterA}", ping.StandardOutput);
        Assert.Contains("Destination unreachable: No route", ping.StandardOutput);
    }
}
