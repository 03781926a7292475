using XdpStack.Lab;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Link;

/// <summary>The stack as the router between two Linux hosts, each in its own namespace, over AF_PACKET sockets on veths; everything checked with Linux's own tools.</summary>
[Trait("Category", "Root")]
public class PacketSocketForwardingTests
{
    private static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:01:01");
    private static readonly MacAddress Mac2 = MacAddress.Parse("02:00:00:00:02:01");

    private sealed class Topology : IDisposable
    {
        private readonly NetworkLab _lab = new();
        private readonly PacketSocketEndpoint _link1;
        private readonly PacketSocketEndpoint _link2;

        // host A 198.18.1.10 — [198.18.1.1 router 198.18.2.1] — host B 198.18.2.10; the B side has MTU 1280.
        public Topology()
        {
            HostA = _lab.AddNamespace("ha");
            Router = _lab.AddNamespace("rt");
            HostB = _lab.AddNamespace("hb");
            (string aDev, string r1Dev) = _lab.AddVeth(HostA, Router);
            (string bDev, string r2Dev) = _lab.AddVeth(HostB, Router, mtu: 1280);
            Router.Ip("link", "set", r1Dev, "address", Mac1.ToString());
            Router.Ip("link", "set", r2Dev, "address", Mac2.ToString());
            foreach (string dev in new[] { r1Dev, r2Dev })
                Router.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dev}.disable_ipv6=1");
            // veth peers hand over partial checksums; make the hosts send complete ones.
            HostA.Check("ethtool", "-K", aDev, "tx", "off");
            HostB.Check("ethtool", "-K", bDev, "tx", "off");
            HostA.Ip("addr", "add", "198.18.1.10/24", "dev", aDev);
            HostA.Ip("route", "add", "default", "via", "198.18.1.1");
            HostB.Ip("addr", "add", "198.18.2.10/24", "dev", bDev);
            HostB.Ip("route", "add", "default", "via", "198.18.2.1");

            Stack = new NetworkStack(new StackOptions { Workers = 2 });
            _link1 = new PacketSocketEndpoint(Router, r1Dev, Mac1, worker: 0);
            _link2 = new PacketSocketEndpoint(Router, r2Dev, Mac2, mtu: 1280, worker: 1);
            Assert.Equal(StackError.None, Stack.CreateNic(new NicId(1), _link1, "left"));
            Assert.Equal(StackError.None, Stack.CreateNic(new NicId(2), _link2, "right"));
            Assert.Equal(StackError.None, Stack.AddAddress(new NicId(1), Ipv4Address.Parse("198.18.1.1"), 24));
            Assert.Equal(StackError.None, Stack.AddAddress(new NicId(2), Ipv4Address.Parse("198.18.2.1"), 24));
            Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.1.0"), 24), Ipv4Address.Any, 1)));
            Assert.Equal(StackError.None, Stack.AddRoute(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.2.0"), 24), Ipv4Address.Any, 2)));
            Stack.Ipv4Forwarder = new Ipv4Forwarder();
            Assert.Equal(StackError.None, Stack.SetForwarding(new NicId(1), EtherType.Ipv4, true, out _));
            Assert.Equal(StackError.None, Stack.SetForwarding(new NicId(2), EtherType.Ipv4, true, out _));
            _link1.Start();
            _link2.Start();
        }

        public NetNamespace HostA { get; }

        public NetNamespace Router { get; }

        public NetNamespace HostB { get; }

        public NetworkStack Stack { get; }

        public void Dispose()
        {
            _link1.Dispose();
            _link2.Dispose();
            _lab.Dispose();
        }
    }

    [Fact]
    public void Ping_BothDirectionsThroughRouter_AllReplies()
    {
        using var t = new Topology();
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
        using var t = new Topology();
        // Warm ARP on both sides so the first datagrams do not wait.
        Assert.Equal(0, t.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", "198.18.2.10").ExitCode);
        const string receiver = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: rmem_max would cap SO_RCVBUF
            s.bind(("198.18.2.10", 9000))
            s.settimeout(5)
            print("ready", flush=True)
            seen, bad = set(), 0
            try:
                while len(seen) < 10000:
                    data, _ = s.recvfrom(2048)
                    seq = int(data[:8])
                    if data != b"%08d" % seq + bytes((seq * 7 + i) & 0xFF for i in range(8 + seq % 1000)):
                        bad += 1
                    seen.add(seq)
            except socket.timeout:
                pass
            print(len(seen), bad)
            """;
        const string sender = """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for seq in range(10000):
                s.sendto(b"%08d" % seq + bytes((seq * 7 + i) & 0xFF for i in range(8 + seq % 1000)), ("198.18.2.10", 9000))
                if seq % 20 == 19:
                    time.sleep(0.002)
            """;
        Task<CommandResult> receiving = Task.Run(() => t.HostB.Run(TimeSpan.FromSeconds(120), "python3", "-c", receiver));
        Thread.Sleep(1000);
        CommandResult sent = t.HostA.Run(TimeSpan.FromSeconds(120), "python3", "-c", sender);
        Assert.True(sent.ExitCode == 0, sent.StandardError);
        CommandResult received = receiving.Result;
        Assert.True(received.ExitCode == 0, received.StandardError);
        string[] lines = received.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("10000 0", lines[^1]);
    }

    [Fact]
    public void PingTtl1_TimeExceededFromRoutersAddress()
    {
        using var t = new Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "1", "-t", "1", "-W", "2", "198.18.2.10");
        Assert.Contains("From 198.18.1.1", ping.StandardOutput);
        Assert.Contains("Time to live exceeded", ping.StandardOutput);
    }

    [Fact]
    public void PingDontFragmentTooBig_FragNeededWithEgressMtu()
    {
        using var t = new Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "1", "-M", "do", "-s", "1400", "-W", "2", "198.18.2.10");
        Assert.Contains("From 198.18.1.1", ping.StandardOutput);
        Assert.Contains("Frag needed and DF set (mtu = 1280)", ping.StandardOutput);
    }

    [Fact]
    public void PingBigWithoutDontFragment_FragmentedOnEgressAndAnswered()
    {
        using var t = new Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "2", "-M", "dont", "-s", "1400", "-W", "2", "198.18.2.10");
        Assert.True(ping.ExitCode == 0, ping.StandardOutput + ping.StandardError);
        Assert.Contains("2 received", ping.StandardOutput);
    }

    [Fact]
    public void PingUnroutedDestination_NetUnreachableFromRouter()
    {
        using var t = new Topology();
        CommandResult ping = t.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "1", "-W", "2", "198.19.5.5");
        Assert.Contains("From 198.18.1.1", ping.StandardOutput);
        Assert.Contains("Destination Net Unreachable", ping.StandardOutput);
    }
}
