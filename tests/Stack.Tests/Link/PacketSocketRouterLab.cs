using XdpStack.Lab;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Link;

/// <summary>Two Linux hosts in their own namespaces with the stack as the router between them, over AF_PACKET sockets on veths: the lab of the end-to-end forwarding tests of both IP families.</summary>
/// <remarks>
/// host A — [NIC 1 "left", worker 0 | stack | NIC 2 "right", worker 1] — host B; the B side has
/// MTU 1280. The family gives the hosts and the stack their addresses, routes and forwarder; the
/// namespaces, links and sockets are the same for IPv4 and IPv6. What the constructor made is
/// removed again if it fails.
/// </remarks>
internal sealed class PacketSocketRouterLab : IDisposable
{
    public static readonly NicId Left = new(1);
    public static readonly NicId Right = new(2);
    private static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:01:01");
    private static readonly MacAddress Mac2 = MacAddress.Parse("02:00:00:00:02:01");

    private readonly NetworkLab _lab = new();
    private PacketSocketEndpoint? _link1;
    private PacketSocketEndpoint? _link2;

    /// <param name="configureHosts">Gives host A (on the named device) and host B (on its) their addresses and a route via the router.</param>
    /// <param name="configureStack">Gives the stack its addresses, routes and forwarder once <see cref="Left"/> and <see cref="Right"/> exist.</param>
    public PacketSocketRouterLab(Action<NetNamespace, string, NetNamespace, string> configureHosts, Action<NetworkStack> configureStack)
    {
        try
        {
            HostA = _lab.AddNamespace("ha");
            NetNamespace router = _lab.AddNamespace("rt");
            HostB = _lab.AddNamespace("hb");
            (string aDev, string r1Dev) = _lab.AddVeth(HostA, router);
            (string bDev, string r2Dev) = _lab.AddVeth(HostB, router, mtu: 1280);
            router.Ip("link", "set", r1Dev, "address", Mac1.ToString());
            router.Ip("link", "set", r2Dev, "address", Mac2.ToString());
            // The router namespace's kernel must not answer for the stack: no IPv6 on its side.
            foreach (string dev in new[] { r1Dev, r2Dev })
                router.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dev}.disable_ipv6=1");
            // veth peers hand over partial checksums; make the hosts send complete ones.
            HostA.Check("ethtool", "-K", aDev, "tx", "off");
            HostB.Check("ethtool", "-K", bDev, "tx", "off");
            configureHosts(HostA, aDev, HostB, bDev);

            Stack = new NetworkStack(new StackOptions { Workers = 2 });
            _link1 = new PacketSocketEndpoint(router, r1Dev, Mac1, worker: 0);
            _link2 = new PacketSocketEndpoint(router, r2Dev, Mac2, mtu: 1280, worker: 1);
            Assert.Equal(StackError.None, Stack.CreateNic(Left, _link1, "left"));
            Assert.Equal(StackError.None, Stack.CreateNic(Right, _link2, "right"));
            configureStack(Stack);
            _link1.Start();
            _link2.Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public NetNamespace HostA { get; } = null!;

    public NetNamespace HostB { get; } = null!;

    public NetworkStack Stack { get; } = null!;

    /// <summary>
    /// Sends <paramref name="count"/> numbered UDP datagrams of 16 to 1015 octets, each with its own
    /// pattern, from host A to <paramref name="address"/> port 9000 on host B; the receiver's last
    /// line says how many different ones arrived and how many of those were corrupt.
    /// </summary>
    /// <param name="socketFamily">The Python socket family: <c>AF_INET</c> or <c>AF_INET6</c>.</param>
    public (CommandResult Sent, CommandResult Received) SendUdpFromAToB(string socketFamily, string address, int count)
    {
        // The receiver only collects while datagrams arrive and checks them afterwards: checking each one as it came
        // made it as slow as the sender, so on a busy 2-core runner its socket overflowed and datagrams the router had
        // forwarded were dropped in HostB's kernel. The buffer holds the whole transfer (about 2.5 KiB of truesize each).
        string receiver = $$"""
            import socket, sys
            s = socket.socket(socket.{{socketFamily}}, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE: rmem_max would cap SO_RCVBUF
            s.bind(("{{address}}", 9000))
            s.settimeout(10)
            print("ready", flush=True)
            got = []
            try:
                while len(got) < {{count}}:
                    got.append(s.recv(2048))
            except socket.timeout:
                pass
            seen, bad = set(), 0
            for data in got:
                seq = int(data[:8])
                if data != b"%08d" % seq + bytes((seq * 7 + i) & 0xFF for i in range(8 + seq % 1000)):
                    bad += 1
                seen.add(seq)
            print(len(seen), bad)
            """;
        string sender = $$"""
            import socket, time
            s = socket.socket(socket.{{socketFamily}}, socket.SOCK_DGRAM)
            for seq in range({{count}}):
                s.sendto(b"%08d" % seq + bytes((seq * 7 + i) & 0xFF for i in range(8 + seq % 1000)), ("{{address}}", 9000))
                if seq % 20 == 19:
                    time.sleep(0.002)
            """;
        Task<CommandResult> receiving = Task.Run(() => HostB.Run(TimeSpan.FromSeconds(120), "python3", "-c", receiver));
        Thread.Sleep(1000);
        CommandResult sent = HostA.Run(TimeSpan.FromSeconds(120), "python3", "-c", sender);
        return (sent, receiving.Result);
    }

    /// <summary>The router's IPv4 and IPv6 packet counters per NIC, for failure messages that say where datagrams went.</summary>
    public string Counters()
    {
        var text = new System.Text.StringBuilder();
        foreach (Nic nic in Stack.NicArray)
        {
            NicStats stats = nic.Stats;
            text.Append($"nic {nic.Id.Value}: v4 in {stats[StatCounter.Ipv4PacketsReceived]} fwd {stats[StatCounter.Ipv4PacketsForwarded]} "
                + $"sent {stats[StatCounter.Ipv4PacketsSent]} errors {stats[StatCounter.Ipv4OutgoingPacketErrors]}; "
                + $"v6 in {stats[StatCounter.Ipv6PacketsReceived]} fwd {stats[StatCounter.Ipv6PacketsForwarded]} "
                + $"sent {stats[StatCounter.Ipv6PacketsSent]} errors {stats[StatCounter.Ipv6OutgoingPacketErrors]}. ");
        }
        return text.ToString();
    }

    public void Dispose()
    {
        _link1?.Dispose();
        _link2?.Dispose();
        _lab.Dispose();
    }
}
