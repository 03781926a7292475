using XdpStack.Lab;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Link;

[Trait("Category", "Root")]
public class PacketSocketPingTests
{
    [Fact]
    public void LinuxHostPingsStackOverVeth_FiveRepliesExitZero()
    {
        using var lab = new NetworkLab();
        NetNamespace host = lab.AddNamespace("host");
        NetNamespace dut = lab.AddNamespace("dut");
        (string hostDev, string dutDev) = lab.AddVeth(host, dut);
        dut.Ip("link", "set", dutDev, "address", Packets.StackMac.ToString());
        // The DUT-side kernel has no addresses; keep its IPv6 chatter off the wire as well.
        dut.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dutDev}.disable_ipv6=1");
        host.Ip("addr", "add", "198.18.0.1/24", "dev", hostDev);

        var stack = new NetworkStack();
        using var link = new PacketSocketEndpoint(dut, dutDev, Packets.StackMac);
        Assert.Equal(StackError.None, stack.CreateNic(new NicId(1), link, "veth"));
        Assert.Equal(StackError.None, stack.AddAddress(new NicId(1), Ipv4Address.Parse("198.18.0.2"), 24));
        link.Start();

        CommandResult ping = host.Run(TimeSpan.FromSeconds(30), "ping", "-c", "5", "-i", "0.2", "-W", "2", "198.18.0.2");
        Assert.True(ping.ExitCode == 0, ping.StandardOutput + ping.StandardError);
        Assert.Contains("5 received", ping.StandardOutput);

        Nic nic = stack.Nics[new NicId(1)];
        Assert.True(nic.Stats[StatCounter.IcmpEchoRepliesSent] >= 5);
        Assert.True(nic.Stats[StatCounter.ArpOutgoingRepliesSent] >= 1);
        // The host learned the stack's MAC through our ARP reply.
        Assert.Contains(Packets.StackMac.ToString(), host.Check("ip", "neigh", "show", "198.18.0.2"));
    }
}
