using XdpStack.Lab;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Link;

/// <summary>The stack as the router between two Linux hosts, each in its own namespace, over AF_PACKET sockets on veths; everything checked with Linux's own tools.</summary>
[Trait("Category", "Root")]
public class PacketSocketForwardingTests
{
    // host A 198.18.1.10 — [198.18.1.1 router 198.18.2.1] — host B 198.18.2.10.
    private static PacketSocketRouterLab Topology() => new(
        (hostA, aDev, hostB, bDev) =>
        {
            hostA.Ip("addr", "add", "198.18.1.10/24", "dev", aDev);
            hostA.Ip("route", "add", "default", "via", "198.18.1.1");
            hostB.Ip("addr", "add", "198.18.2.10/24", "dev", bDev);
            hostB.Ip("route", "add", "default", "via", "198.18.2.1");
        },
        stack =>
        {
            Assert.Equal(StackError.None, stack.AddAddress(PacketSocketRouterLab.Left, Ipv4Address.Parse("198.18.1.1"), 24));
            Assert.Equal(StackError.None, stack.AddAddress(PacketSocketRouterLab.Right, Ipv4Address.Parse("198.18.2.1"), 24));
            Assert.Equal(StackError.None, stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.1.0"), 24), Ipv4Address.Any, 1)));
            Assert.Equal(StackError.None, stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.2.0"), 24), Ipv4Address.Any, 2)));
            stack.Ipv4Forwarder = new Ipv4Forwarder();
            Assert.Equal(StackError.None, stack.SetForwarding(PacketSocketRouterLab.Left, EtherType.Ipv4, true, out _));
            Assert.Equal(StackError.None, stack.SetForwarding(PacketSocketRouterLab.Right, EtherType.Ipv4, true, out _));
        });

    [Fact]
    public void Ping_BothDirectionsThroughRouter_AllReplies()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ab = t.HostA.Run(TimeSpan.FromSeconds(30), "ping", "-c", "5", "-i", "0.2", "-W", "2", "198.18.2.10");
        Assert.True(ab.ExitCode == 0, ab.StandardOutput + ab.StandardError);
        Assert.Contains("5 received", ab.StandardOutput);
        // Replies crossed the router, so their TTL is the host's 64 less one.
        Assert.Contains("ttl=63", ab.StandardOutput);
        CommandResult ba = t.HostB.Run(TimeSpan.FromSeconds(30), "ping", "-c", "5", "-i", "0.2", "-W", "2", "198.18.1.10");
        Assert.True(ba.ExitCode == 0, ba.StandardOutput + ba.StandardError);
        Assert.Contains("5 received", ba.StandardOutput);
        Assert.True(t.Stack.Nics[new NicId(2)].Stats[StatCounter.Ipv4PacketsSent] >= 10);
    }

    [Fact]
    public void Udp_TenThousandDatagramsAcrossRouter_AllArriveIntact()
    {
        using PacketSocketRouterLab t = Topology();
        // Warm ARP on both sides so the first datagrams do not wait.
        Assert.Equal(0, t.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", "198.18.2.10").ExitCode);
        (CommandResult sent, CommandResult received) = t.SendUdpFromAToB("AF_INET", "198.18.2.10", 10000);
        Assert.True(sent.ExitCode == 0, sent.StandardError);
        Assert.True(received.ExitCode == 0, received.StandardError);
        string[] lines = received.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines[^1] == "10000 0", $"received and corrupt: {lines[^1]}; router: {t.Counters()}");
    }

    [Fact]
    public void PingTtl1_TimeExceededFromRoutersAddress()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "1", "-t", "1", "-W", "2", "198.18.2.10");
        Assert.Contains("From 198.18.1.1", ping.StandardOutput);
        Assert.Contains("Time to live exceeded", ping.StandardOutput);
    }

    [Fact]
    public void PingDontFragmentTooBig_FragNeededWithEgressMtu()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "1", "-M", "do", "-s", "1400", "-W", "2", "198.18.2.10");
        Assert.Contains("From 198.18.1.1", ping.StandardOutput);
        Assert.Contains("Frag needed and DF set (mtu = 1280)", ping.StandardOutput);
    }

    [Fact]
    public void PingBigWithoutDontFragment_FragmentedOnEgressAndAnswered()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "2", "-M", "dont", "-s", "1400", "-W", "2", "198.18.2.10");
        Assert.True(ping.ExitCode == 0, ping.StandardOutput + ping.StandardError);
        Assert.Contains("2 received", ping.StandardOutput);
    }

    [Fact]
    public void PingUnroutedDestination_NetUnreachableFromRouter()
    {
        using PacketSocketRouterLab t = Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "1", "-W", "2", "198.19.5.5");
        Assert.Contains("From 198.18.1.1", ping.StandardOutput);
        Assert.Contains("Destination Net Unreachable", ping.StandardOutput);
    }
}
