namespace XdpStack.Appliance.Tests.Config;

/// <summary><c>punt</c> and <c>punt_tap</c> in [[interface]] and [[vlan]]: the TAP's name, its default, and every way to get it wrong.</summary>
public sealed class ConfigPuntTests
{
    [Fact]
    public void TryParse_PuntWithoutTapName_TapIsXsDashInterface()
    {
        var config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            punt = true

            [[interface]]
            name = "eth2"
            """);

        Assert.Equal("xs-eth1", config.Interfaces[0].PuntTap);
        Assert.Null(config.Interfaces[1].PuntTap);
    }

    [Fact]
    public void TryParse_PuntTapGiven_ThatName()
    {
        var config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            punt = true
            punt_tap = "bgp0"
            """);

        Assert.Equal("bgp0", config.Interfaces[0].PuntTap);
    }

    [Fact]
    public void TryParse_PuntMistakes_EachReportedAtItsKey()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "enp1s0f0np0xy"
            punt = true

            [[interface]]
            name = "eth1"
            punt_tap = "tap1"

            [[interface]]
            name = "eth2"
            punt = true
            punt_tap = "a/b"

            [[interface]]
            name = "eth3"
            punt = true
            punt_tap = "eth2"

            [[interface]]
            name = "eth4"
            punt = true
            punt_tap = "eth2"
            """);

        Assert.Equal(
        [
            "test.toml:3:8: the punt TAP of 'enp1s0f0np0xy' would be named 'xs-enp1s0f0np0xy', longer than 15 bytes: give it a name with punt_tap = \"...\"",
            "test.toml:7:12: 'punt_tap' in [[interface]] names the TAP of the control-plane punt, which needs punt = true",
            "test.toml:12:12: 'punt_tap' in [[interface]]: 'a/b' is not a valid interface name (1 to 15 bytes, no '/', ':' or white space)",
            "test.toml:17:12: the punt TAP 'eth2' has the name of a configured interface (at 10:8)",
            "test.toml:22:12: the punt TAP 'eth2' has the name of a configured interface (at 10:8)",
        ], errors);
    }

    [Fact]
    public void Compare_PuntTurnedOn_NeedsRestart()
    {
        var running = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            """);
        var next = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            punt = true
            """);

        Assert.Contains("punt_tap of eth1 changed from (no punt) to xs-eth1", XdpStack.Appliance.Config.ConfigDiff.Compare(running, next).RestartReasons);
    }

    [Fact]
    public void TryParse_PuntOnAVlan_TapIsXsDashItsName()
    {
        var config = ConfigText.Valid("""
            [[interface]]
            name = "eth1"
            punt = true

            [[vlan]]
            parent = "eth1"
            id = 100
            addresses = ["198.18.100.1/24"]
            punt = true

            [[vlan]]
            parent = "eth1"
            id = 200
            punt = true
            punt_tap = "bgp200"

            [[vlan]]
            parent = "eth1"
            id = 300
            """);

        Assert.Equal(["xs-eth1", "xs-eth1.100", "bgp200", null], config.Interfaces.Select(i => i.PuntTap));
    }

    [Fact]
    public void TryParse_PuntMistakesOnAVlan_NamedAsVlanAndReportedAtTheirKeys()
    {
        string[] errors = ConfigText.Errors("""
            [[interface]]
            name = "eth1"
            punt = true

            [[vlan]]
            parent = "eth1"
            id = 100
            punt_tap = "tap100"

            [[vlan]]
            parent = "eth1"
            id = 200
            punt = true
            punt_tap = "xs-eth1"
            """);

        Assert.Equal(
        [
            "test.toml:8:12: 'punt_tap' in [[vlan]] names the TAP of the control-plane punt, which needs punt = true",
            "test.toml:14:12: the punt TAP 'xs-eth1' is already the TAP of 'eth1' (at 3:8)",
        ], errors);
    }
}
