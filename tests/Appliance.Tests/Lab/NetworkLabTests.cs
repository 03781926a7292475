using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Lab;

[Trait("Category", "Root")]
public sealed class NetworkLabTests
{
    [Fact]
    public void Veth_JoinsTwoNamespaces_AndDisposeRemovesEverything()
    {
        string[] names;
        using (var lab = new NetworkLab())
        {
            NetNamespace a = lab.AddNamespace("a"), b = lab.AddNamespace("b");
            (string va, string vb) = lab.AddVeth(a, b);
            a.Ip("addr", "add", "198.18.0.1/24", "dev", va);
            b.Ip("addr", "add", "198.18.0.2/24", "dev", vb);
            Assert.True(va.Length <= 15 && vb.Length <= 15);
            Assert.Contains("198.18.0.1", a.Ip("-br", "addr", "show", "dev", va));
            names = [a.Name, b.Name];
            Assert.All(names, n => Assert.Contains(n, Shell.Check("ip", "netns", "list")));
        }
        string after = Shell.Check("ip", "netns", "list");
        Assert.All(names, n => Assert.DoesNotContain(n, after));
    }

    [Fact]
    public void Enter_MovesOnlyTheCallingThread()
    {
        using var lab = new NetworkLab();
        NetNamespace a = lab.AddNamespace("a");
        string outside = File.ReadAllText("/proc/thread-self/net/dev");
        using (a.Enter())
        {
            string inside = File.ReadAllText("/proc/thread-self/net/dev");
            Assert.DoesNotContain("eth0", inside);
            Assert.Contains("lo:", inside);
        }
        Assert.Equal(outside.Split('\n').Length, File.ReadAllText("/proc/thread-self/net/dev").Split('\n').Length);
    }
}
