using XdpStack.Appliance.Config;
using XdpStack.Stack;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Tests.Config;

public sealed class ConfigDiffTests
{
    private const string Base = """
        [workers]
        cores = [1, 2]
        [[interface]]
        name = "eth1"
        addresses = ["198.18.0.1/24", "2001:2:0:1::1/64"]
        [[interface]]
        name = "eth2"
        addresses = ["198.18.1.1/24"]
        [[route]]
        prefix = "198.19.0.0/16"
        via = "198.18.1.2"
        [[route]]
        prefix = "198.20.0.0/16"
        via = "198.18.0.2"
        [[neighbor]]
        interface = "eth2"
        address = "198.18.1.2"
        mac = "02:00:00:00:02:02"
        [[service]]
        kind = "udp-echo"
        port = 7
        """;

    [Fact]
    public void Compare_SameText_IsEmpty()
    {
        ConfigDiff diff = ConfigDiff.Compare(ConfigText.Valid(Base), ConfigText.Valid(Base));

        Assert.True(diff.IsEmpty);
        Assert.False(diff.NeedsRestart);
        Assert.Empty(diff.LiveChanges());
    }

    [Fact]
    public void Compare_SameMeaningReordered_IsEmpty()
    {
        // Another order of sections and another spelling of the same tables mean the same config.
        ApplianceConfig reordered = ConfigText.Valid("""
            service = [{ kind = "udp-echo", port = 7 }]
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24", "2001:2:0:1::1/64"]
            [[interface]]
            name = "eth2"
            addresses = ["198.18.1.1/24"]
            [[route]]
            prefix = "198.20.0.0/16"
            via = "198.18.0.2"
            interface = "eth1"
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.1.2"
            [[neighbor]]
            interface = "eth2"
            address = "198.18.1.2"
            mac = "02:00:00:00:02:02"
            [workers]
            cores = "1-2"
            """);

        Assert.True(ConfigDiff.Compare(ConfigText.Valid(Base), reordered).IsEmpty);
    }

    [Fact]
    public void Compare_LiveChanges_ListedAndNoRestart()
    {
        ApplianceConfig next = ConfigText.Valid("""
            [workers]
            cores = [1, 2]
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24", "2001:2:0:1::1/64", "198.18.4.1/24"]
            forwarding = { ipv6 = false }
            [[interface]]
            name = "eth2"
            addresses = ["198.18.1.1/25"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.1.2"
            metric = 5
            [[route]]
            prefix = "198.20.0.0/16"
            via = "198.18.0.2"
            [[neighbor]]
            interface = "eth2"
            address = "198.18.1.2"
            mac = "02:00:00:00:02:03"
            [[service]]
            kind = "udp-discard"
            port = 9
            """);

        ConfigDiff diff = ConfigDiff.Compare(ConfigText.Valid(Base), next);

        Assert.False(diff.NeedsRestart);
        Assert.False(diff.IsEmpty);
        Assert.Equal<InterfaceAddress>([new InterfaceAddress("eth1", new AddressWithPrefix(Ipv4Address.Parse("198.18.4.1"), 24)),
            new InterfaceAddress("eth2", new AddressWithPrefix(Ipv4Address.Parse("198.18.1.1"), 25))], diff.AddedAddresses);
        Assert.Equal<InterfaceAddress>([new InterfaceAddress("eth2", new AddressWithPrefix(Ipv4Address.Parse("198.18.1.1"), 24))], diff.RemovedAddresses);
        Assert.Equal(
        [
            "- address 198.18.1.1/24 on eth2",
            "- route 198.19.0.0/16 via 198.18.1.2 dev eth2 metric 0",
            "- neighbor 198.18.1.2 lladdr 02:00:00:00:02:02 dev eth2",
            "- service udp-echo on * port 7",
            "+ address 198.18.4.1/24 on eth1",
            "+ address 198.18.1.1/25 on eth2",
            "+ route 198.19.0.0/16 via 198.18.1.2 dev eth2 metric 5",
            "+ neighbor 198.18.1.2 lladdr 02:00:00:00:02:03 dev eth2",
            "+ service udp-discard on * port 9",
            "~ forwarding on eth1: ipv4 on -> on, ipv6 on -> off",
        ], diff.LiveChanges());
    }

    [Fact]
    public void Compare_InterfacesQueuesWorkersXdp_NeedARestart()
    {
        ApplianceConfig next = ConfigText.Valid("""
            [workers]
            cores = [1, 3]
            batch = 32
            nice = 0
            [xdp]
            mode = "copy"
            rx_ring = 4096
            [management]
            listen = ""
            [[interface]]
            name = "eth1"
            queues = [0]
            addresses = ["198.18.0.1/24", "2001:2:0:1::1/64"]
            mtu = 9000
            [[interface]]
            name = "eth3"
            """);

        ConfigDiff diff = ConfigDiff.Compare(ConfigText.Valid(Base), next);

        Assert.True(diff.NeedsRestart);
        Assert.Equal<string>(
        [
            "queues of eth1 changed from all to 0",
            "mtu of eth1 changed from (any) to 9000",
            "interface eth2 removed",
            "interface eth3 added",
            "[workers] cores changed from 1,2 to 1,3",
            "[workers] batch changed from 64 to 32",
            "[workers] nice changed from -10 to 0",
            "[xdp] mode changed from auto to copy",
            "[xdp] rx_ring changed from 2048 to 4096",
            "[management] listen changed from 127.0.0.1:9469 to (off)",
        ], diff.RestartReasons);
    }

    [Fact]
    public void Compare_MultipathHashPolicy_ParsedAndNeedsRestart()
    {
        ApplianceConfig next = ConfigText.Valid(Base + "\n[forwarding]\nmultipath_hash = \"l3\"\n");

        ConfigDiff diff = ConfigDiff.Compare(ConfigText.Valid(Base), next);

        Assert.Equal(XdpStack.Stack.Routing.MultipathHashPolicy.Layer4, ConfigText.Valid(Base).MultipathHash);
        Assert.Equal(XdpStack.Stack.Routing.MultipathHashPolicy.Layer3, next.MultipathHash);
        Assert.Equal<string>(["[forwarding] multipath_hash changed from l4 to l3"], diff.RestartReasons);
        Assert.Single(ConfigText.Errors(Base + "\n[forwarding]\nmultipath_hash = \"l5\"\n"));
    }

    [Fact]
    public void Compare_GlobalForwardingSwitch_ChangesEveryInterfaceThatFollowsIt()
    {
        ApplianceConfig next = ConfigText.Valid(Base + "\n[forwarding]\nipv4 = false\n");

        ConfigDiff diff = ConfigDiff.Compare(ConfigText.Valid(Base), next);

        Assert.False(diff.NeedsRestart);
        Assert.Equal(["eth1", "eth2"], diff.ForwardingChanges.Select(f => f.Interface));
        Assert.All(diff.ForwardingChanges, f => Assert.Equal(new ForwardingConfig(Ipv4: false, Ipv6: true), f.To));
    }
}
