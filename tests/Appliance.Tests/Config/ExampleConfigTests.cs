using XdpStack.Appliance.Config;

namespace XdpStack.Appliance.Tests.Config;

/// <summary>The example files in deploy/examples pass every check against a machine with eth1 and eth2.</summary>
public sealed class ExampleConfigTests
{
    public static TheoryData<string> Examples => new() { "router.toml", "responder.toml" };

    [Theory]
    [MemberData(nameof(Examples))]
    public void TryLoad_Example_IsValid(string name)
    {
        string path = ExamplePath(name);

        bool valid = ConfigLoader.TryLoad(path, FakeHostFacts.TwoPorts(), out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors);

        Assert.True(valid, string.Join('\n', errors));
        Assert.Equal(path, config!.SourcePath);
    }

    [Fact]
    public void TryLoad_Router_HasTwoInterfacesRoutesOfBothFamiliesAndANeighbor()
    {
        Assert.True(ConfigLoader.TryLoad(ExamplePath("router.toml"), FakeHostFacts.TwoPorts(), out ApplianceConfig? config, out _));

        Assert.Equal("2 interfaces (eth1, eth2), 4 routes, 1 static neighbor, 0 services", config.Summary());
        Assert.All(config.Interfaces, i => Assert.Contains(i.Addresses, a => a.Address.IsIpv4));
        Assert.All(config.Interfaces, i => Assert.Contains(i.Addresses, a => a.Address.IsIpv6));
        Assert.Contains(config.Routes, r => r.Destination.IsIpv4);
        Assert.Contains(config.Routes, r => r.Destination.IsIpv6);
        Assert.Equal(["eth2", "eth2", "eth1", "eth1"], config.Routes.Select(r => r.Interface));
    }

    [Fact]
    public void TryLoad_Responder_HasOneInterfaceAndBothUdpServices()
    {
        Assert.True(ConfigLoader.TryLoad(ExamplePath("responder.toml"), FakeHostFacts.TwoPorts(), out ApplianceConfig? config, out _));

        Assert.Equal("1 interface (eth1), 0 routes, 0 static neighbors, 2 services", config.Summary());
        Assert.Equal([ServiceKind.UdpEcho, ServiceKind.UdpDiscard], config.Services.Select(s => s.Kind));
        Assert.Equal(new ForwardingConfig(Ipv4: false, Ipv6: false), config.Interfaces[0].Forwarding);
    }

    internal static string ExamplePath(string name)
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "XdpStack.sln")))
            dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        return Path.Combine(dir, "deploy", "examples", name);
    }
}
