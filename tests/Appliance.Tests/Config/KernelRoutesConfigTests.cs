using XdpStack.Appliance.Config;

namespace XdpStack.Appliance.Tests.Config;

/// <summary>The <c>[kernel_routes]</c> section: defaults, every accepted spelling, every mistake with its position, and reloads.</summary>
public sealed class KernelRoutesConfigTests
{
    private const string Interface = """
        [[interface]]
        name = "eth1"
        addresses = ["198.18.0.1/24"]

        """;

    [Fact]
    public void Valid_NoSection_SyncOffMainTableBothFamilies()
    {
        KernelRoutesConfig k = ConfigText.Valid(Interface).KernelRoutes;

        Assert.Equal(new KernelRoutesConfig(false, 254, "main", true, true), k);
    }

    [Theory]
    [InlineData("table = \"main\"", 254u, "main")]
    [InlineData("table = \"default\"", 253u, "default")]
    [InlineData("table = 254", 254u, "main")]
    [InlineData("table = 100", 100u, "100")]
    [InlineData("table = 4294967295", 4294967295u, "4294967295")]
    public void Valid_Table_NameOrNumber(string line, uint id, string name)
    {
        KernelRoutesConfig k = ConfigText.Valid(Interface + "[kernel_routes]\nsync = true\n" + line + "\nipv6 = false\n").KernelRoutes;

        Assert.Equal(new KernelRoutesConfig(true, id, name, true, false), k);
    }

    [Fact]
    public void Errors_EveryBadValue_LineColumnAndWhatIsWrong()
    {
        string[] errors = ConfigText.Errors(Interface + """
            [kernel_routes]
            sync = "yes"
            table = "mian"
            ipv4 = 1
            protocol = "bird"
            """);

        Assert.Equal(
        [
            "test.toml:5:8: 'sync' in [kernel_routes] must be true or false, not a string",
            "test.toml:6:9: 'table' in [kernel_routes] must be \"main\", \"default\" or a table number from 1 to 4294967295, not \"mian\" (did you mean \"main\"?)",
            "test.toml:7:8: 'ipv4' in [kernel_routes] must be true or false, not an integer",
            "test.toml:8:1: unknown key 'protocol' in [kernel_routes]",
        ], errors);
    }

    [Theory]
    [InlineData("table = 0", "test.toml:5:9: 'table' in [kernel_routes] must be \"main\", \"default\" or a table number from 1 to 4294967295, not 0")]
    [InlineData("table = 4294967296", "test.toml:5:9: 'table' in [kernel_routes] must be \"main\", \"default\" or a table number from 1 to 4294967295, not 4294967296")]
    [InlineData("table = 1.5", "test.toml:5:9: 'table' in [kernel_routes] must be \"main\", \"default\" or a table number from 1 to 4294967295, not a float")]
    [InlineData("table = \"local\"", "test.toml:5:9: 'table' in [kernel_routes] is \"local\", the kernel's table of its own addresses (local and broadcast routes), which never forwards; name the table the routing daemon writes (\"main\" unless it is told otherwise)")]
    [InlineData("table = 255", "test.toml:5:9: 'table' in [kernel_routes] is 255, the kernel's table of its own addresses (local and broadcast routes), which never forwards; name the table the routing daemon writes (\"main\" unless it is told otherwise)")]
    [InlineData("syncc = true", "test.toml:5:1: unknown key 'syncc' in [kernel_routes] (did you mean 'sync'?)")]
    public void Errors_OneBadKey_Reported(string line, string expected)
    {
        Assert.Equal([expected], ConfigText.Errors(Interface + "[kernel_routes]\n" + line + "\n"));
    }

    [Fact]
    public void Errors_SyncWithBothFamiliesOff_AtTheTableHeader()
    {
        string[] errors = ConfigText.Errors(Interface + "[kernel_routes]\nsync = true\nipv4 = false\nipv6 = false\n");

        Assert.Equal(["test.toml:4:1: [kernel_routes] has sync = true but ipv4 = false and ipv6 = false, so it would follow nothing; set sync = false instead"], errors);
    }

    [Fact]
    public void Errors_MisspeltTable_SuggestsKernelRoutes()
    {
        Assert.Equal(["test.toml:4:1: unknown table [kernel_route] (did you mean [kernel_routes]?)"], ConfigText.Errors(Interface + "[kernel_route]\nsync = true\n"));
    }

    [Fact]
    public void Compare_SyncSwitchedOn_NeedsRestart()
    {
        ConfigDiff diff = ConfigDiff.Compare(ConfigText.Valid(Interface), ConfigText.Valid(Interface + "[kernel_routes]\nsync = true\ntable = 100\n"));

        Assert.Equal(["[kernel_routes] sync changed from false to true", "[kernel_routes] table changed from main to 100"], diff.RestartReasons.ToArray());
    }
}
