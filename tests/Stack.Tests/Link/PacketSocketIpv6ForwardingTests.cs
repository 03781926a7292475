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
    private static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:01:01");
    private static readonly MacAddress Mac2 = MacAddress.Parse("02:00:00:00:02:01");

    private sealed class Topology : IDisposable
    {
        private readonly NetworkLab _lab = new();
        private PacketSocketEndpoint? _link1;
        private PacketSocketEndpoint? _link2;

        // host A 2001:2:0:1::10 — [2001:2:0:1::1 router 2001:2:0:2::1] — host B 2001:2:0:2::10; the B side has MTU 1280.
        public Topology()
        {
            try
            {
                HostANs = _lab.AddNamespace("ha");
                NetNamespace router = _lab.AddNamespace("rt");
                HostBNs = _lab.AddNamespace("hb");
                (string aDev, string r1Dev) = _lab.AddVeth(HostANs, router);
                (string bDev, string r2Dev) = _lab.AddVeth(HostBNs, router, mtu: 1280);
                ADev = aDev;
                router.Ip("link", "set", r1Dev, "address", Mac1.ToString());
                router.Ip("link", "set", r2Dev, "address", Mac2.ToString());
                // The router namespace's kernel must not answer for the stack: no IPv6 on its side.
                foreach (string dev in new[] { r1Dev, r2Dev })
                    router.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dev}.disable_ipv6=1");
                // veth peers hand over partial checksums; make the hosts send complete ones.
                HostANs.Check("ethtool", "-K", aDev, "tx", "off");
                HostBNs.Check("ethtool", "-K", bDev, "tx", "off");
                // nodad: the addresses are usable at once instead of after duplicate address detection.
                HostANs.Ip("-6", "addr", "add", $"{HostA}/64", "dev", aDev, "nodad");
                HostANs.Ip("-6", "route", "add", "2001:2::/48", "via", RouterA);
                HostBNs.Ip("-6", "addr", "add", $"{HostB}/64", "dev", bDev, "nodad");
                HostBNs.Ip("-6", "route", "add", "2001:2::/48", "via", RouterB);

                Stack = new NetworkStack(new StackOptions { Workers = 2 });
                _link1 = new PacketSocketEndpoint(router, r1Dev, Mac1, worker: 0);
                _link2 = new PacketSocketEndpoint(router, r2Dev, Mac2, mtu: 1280, worker: 1);
                Assert.Equal(StackError.None, Stack.CreateNic(new NicId(1), _link1, "left"));
                Assert.Equal(StackError.None, Stack.CreateNic(new NicId(2), _link2, "right"));
                Assert.Equal(StackError.None, Stack.AddAddress(new NicId(1), Ipv6Address.Parse(RouterA), 64));
                Assert.Equal(StackError.None, Stack.AddAddress(new NicId(2), Ipv6Address.Parse(RouterB), 64));
                Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:1::/64"), Ipv6Address.Any, 1)));
                Assert.Equal(StackError.None, Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:2::/64"), Ipv6Address.Any, 2)));
                Stack.Ipv6Forwarder = new Ipv6Forwarder();
                Assert.Equal(StackError.None, Stack.SetForwarding(new NicId(1), EtherType.Ipv6, true, out _));
                Assert.Equal(StackError.None, Stack.SetForwarding(new NicId(2), EtherType.Ipv6, true, out _));
                _link1.Start();
                _link2.Start();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public NetNamespace HostANs { get; } = null!;

        public NetNamespace HostBNs { get; } = null!;

        public string ADev { get; } = "";

        public NetworkStack Stack { get; } = null!;

        public void Dispose()
        {
            _link1?.Dispose();
            _link2?.Dispose();
            _lab.Dispose();
        }
    }

    [Fact]
    public void Ping6_BothDirectionsThroughRouter_AllRepliesHopLimit63()
    {
        using var t = new Topology();
        CommandResult ab = t.HostANs.Run(TimeSpan.FromSeconds(30), "ping", "-6", "-c", "5", "-i", "0.2", "-W", "2", HostB);
        Assert.True(ab.ExitCode == 0, ab.StandardOutput + ab.StandardError);
        Assert.Contains("5 received", ab.StandardOutput);
        // Replies crossed the router, so their hop limit is the host's 64 less one.
        Assert.Matches(new Regex("(ttl|hlim)=63"), ab.StandardOutput);
        CommandResult ba = t.HostBNs.Run(TimeSpan.FromSeconds(30), "ping", "-6", "-c", "5", "-i", "0.2", "-W", "2", HostA);
        Assert.True(ba.ExitCode == 0, ba.StandardOutput + ba.StandardError);
        Assert.Contains("5 received", ba.StandardOutput);
        Assert.Matches(new Regex("(ttl|hlim)=63"), ba.StandardOutput);
        Assert.True(t.Stack.Nics[new NicId(2)].Stats[StatCounter.Ipv6PacketsForwarded] >= 10);
        Assert.True(t.Stack.Nics[new NicId(1)].Stats[StatCounter.Ipv6PacketsForwarded] >= 10);
    }

    [Fact]
    public void Udp6_TwoThousandDatagramsAcrossRouter_AllArriveIntact()
    {
        using var t = new Topology();
        // Warm NDP on both sides so the first datagrams do not wait.
        Assert.Equal(0, t.HostANs.Run(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "1", "-W", "2", HostB).ExitCode);
        const string receiver = """
            import socket, sys
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: rmem_max would cap SO_RCVBUF
            s.bind(("2001:2:0:2::10", 9000))
            s.settimeout(5)
            print("ready", flush=True)
            seen, bad = set(), 0
            try:
                while len(seen) < 2000:
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
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            for seq in range(2000):
                s.sendto(b"%08d" % seq + bytes((seq * 7 + i) & 0xFF for i in range(8 + seq % 1000)), ("2001:2:0:2::10", 9000))
                if seq % 20 == 19:
                    time.sleep(0.002)
            """;
        Task<CommandResult> receiving = Task.Run(() => t.HostBNs.Run(TimeSpan.FromSeconds(120), "python3", "-c", receiver));
        Thread.Sleep(1000);
        CommandResult sent = t.HostANs.Run(TimeSpan.FromSeconds(120), "python3", "-c", sender);
        Assert.True(sent.ExitCode == 0, sent.StandardError);
        CommandResult received = receiving.Result;
        Assert.True(received.ExitCode == 0, received.StandardError);
        string[] lines = received.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("2000 0", lines[^1]);
    }

    [Fact]
    public void Ping6HopLimit1_TimeExceededFromRoutersAddress()
    {
        using var t = new Topology();
        CommandResult ping = t.HostANs.Run(TimeSpan.FromSeconds(20), "ping", "-6", "-c", "1", "-t", "1", "-W", "2", HostB);
        Assert.Contains($"From {RouterA}", ping.StandardOutput);
        Assert.Contains("Time exceeded: Hop limit", ping.StandardOutput);
    }

    [Fact]
    public void Ping6DontFragmentTooBig_PacketTooBigWithEgressMtuAndLinuxCachesIt()
    {
        using var t = new Topology();
        CommandResult ping = t.HostANs.Run(TimeSpan.FromSeconds(20), "ping", "-6", "-c", "1", "-M", "do", "-s", "1300", "-W", "2", HostB);
        Assert.Contains($"From {RouterA}", ping.StandardOutput);
        Assert.Contains("Packet too big: mtu=1280", ping.StandardOutput);
        // Linux took the MTU into its route cache (ip6_update_pmtu).
        string route = t.HostANs.Check("ip", "-6", "route", "get", HostB);
        Assert.Contains("mtu 1280", route);
        Assert.True(t.Stack.Nics[new NicId(1)].Stats[StatCounter.Ipv6ForwardingPacketTooBig] >= 1);
    }

    [Fact]
    public void Ping6UnroutedDestination_NoRouteUnreachableFromRouter()
    {
        using var t = new Topology();
        CommandResult ping = t.HostANs.Run(TimeSpan.FromSeconds(20), "ping", "-6", "-c", "1", "-W", "2", "2001:2:0:99::5");
        Assert.Contains($"From {RouterA}", ping.StandardOutput);
        Assert.Contains("Destination unreachable: No route", ping.StandardOutput);
    }
}
