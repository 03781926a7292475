using XdpStack.Appliance.Config;
using XdpStack.Appliance.Run;

namespace XdpStack.Appliance.Tests.Config;

/// <summary><c>[[vlan]]</c>: 802.1Q sub-interfaces, their defaults, what refers to them, and every way to get one wrong.</summary>
public sealed class ConfigVlanTests
{
    [Fact]
    public void TryParse_Vlan_AnInterfaceOfItsOwnAfterTheInterfaces_RoutesNeighboursAndServicesNameIt()
    {
        var config = ConfigText.Valid("""
            [[vlan]]
            parent = "eth1"
            id = 100
            addresses = ["198.18.100.1/24", "2001:2:0:100::1/64"]
            forwarding = { ipv6 = false }

            [[interface]]
            name = "eth1"
            addresses = ["198.18.1.1/24"]

            [[interface]]
            name = "eth2"

            [[vlan]]
            name = "office"
            parent = "eth1"
            id = 200
            mtu = 1400
            addresses = ["198.18.200.1/24"]

            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.100.9"

            [[neighbor]]
            interface = "office"
            address = "198.18.200.7"
            mac = "02:00:00:00:00:07"

            [[service]]
            kind = "udp-echo"
            port = 7
            address = "198.18.200.1"
            """, FakeHostFacts.TwoPorts());

        Assert.Equal(["eth1", "eth2", "eth1.100", "office"], config.Interfaces.Select(i => i.Name));
        InterfaceConfig vlan = config.Interfaces[2];
        Assert.Equal(new VlanConfig("eth1", 100), vlan.Vlan);
        Assert.Null(vlan.Mtu);
        Assert.True(vlan.Forwarding.Ipv4);
        Assert.False(vlan.Forwarding.Ipv6);
        Assert.Equal(1400, config.Interfaces[3].Mtu);
        Assert.Null(config.Interfaces[0].Vlan);
        Assert.Equal("eth1.100", config.Routes[0].Interface);
        Assert.Equal("office", config.Neighbors[0].Interface);

        // The data plane opens only the devices; the sub-interfaces ride on them, numbered after them as the plan numbers them.
        DataPlaneSettings settings = ApplianceRunner.ToSettings(config);
        Assert.Equal(["eth1", "eth2"], settings.Interfaces.Select(i => i.Name));
        Assert.Equal([new DataPlaneVlan("eth1.100", "eth1", 100, null), new DataPlaneVlan("office", "eth1", 200, 1400)], settings.Vlans);
        StackPlan plan = ApplianceRunner.ToPlan(config);
        Assert.Contains(plan.Addresses, a => a.Nic.Value == 3 && a.Address.ToString() == "198.18.100.1");
        Assert.Contains(plan.Ipv4Routes, r => r.Nic == 3 && r.Destination.ToString() == "198.19.0.0/16");
        Assert.Contains(plan.Neighbors, n => n.Nic.Value == 4);
    }

    [Fact]
    public void TryParse_VlanMistakes_EachReportedAtItsKey()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            mtu = 1500

            [[vlan]]
            parent = "eth9"
            id = 10

            [[vlan]]
            parent = "eth1"
            id = 4095

            [[vlan]]
            parent = "eth1"
            id = 0

            [[vlan]]
            parent = "eth1"
            id = 20

            [[vlan]]
            name = "twin"
            parent = "eth1"
            id = 20

            [[vlan]]
            parent = "eth1"
            id = 30
            mtu = 1504

            [[vlan]]
            parent = "eth1"

            [[vlan]]
            id = 40

            [[vlan]]
            parent = "eth1.20"
            id = 50

            [[vlan]]
            name = "eth1"
            parent = "eth1"
            id = 60
            tagged = true
            """);

        Assert.Equal(
        [
            "test.toml:6:10: [[vlan]] names parent 'eth9', which no [[interface]] configures (did you mean 'eth1'?)",
            "test.toml:11:6: 'id' in [[vlan]] must be from 1 to 4094, not 4095",
            "test.toml:15:6: 'id' in [[vlan]] must be from 1 to 4094, not 0",
            "test.toml:24:6: VLAN 20 is already on 'eth1' (at 19:6)",
            "test.toml:29:7: 'mtu' 1504 of a [[vlan]] is above the MTU of its parent 'eth1' (1500, at 3:7)",
            "test.toml:31:1: [[vlan]] needs 'id' (the 802.1Q VLAN id, 1 to 4094)",
            "test.toml:34:1: [[vlan]] needs 'parent' (the [[interface]] it rides on, such as \"eth1\")",
            "test.toml:38:10: parent 'eth1.20' is a [[vlan]] itself: stacked VLANs (QinQ) are not supported",
            "test.toml:42:8: interface 'eth1' is configured twice (first at 2:8)",
            "test.toml:45:1: unknown key 'tagged' in [[vlan]]",
        ], errors);
    }

    [Fact]
    public void TryParse_VlanMtuAboveTheParentDevice_ReportedWithTheDeviceMtu()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"

            [[vlan]]
            parent = "eth1"
            id = 7
            mtu = 9000
            """, FakeHostFacts.TwoPorts());

        Assert.Equal(["test.toml:7:7: 'mtu' 9000 of a [[vlan]] is above the MTU of its parent 'eth1' (1500)"], errors);
    }

    [Fact]
    public void Compare_VlanIdChanged_NeedsRestart()
    {
        const string Head = """
            [[interface]]
            name = "eth1"

            [[vlan]]
            name = "v"
            parent = "eth1"

            """;
        var running = ConfigText.Valid(Head + "id = 100\n");
        var next = ConfigText.Valid(Head + "id = 101\n");

        Assert.Contains("vlan of v changed from eth1 id 100 to eth1 id 101", ConfigDiff.Compare(running, next).RestartReasons);
    }
}
