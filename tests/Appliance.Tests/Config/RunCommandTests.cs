using XdpStack.Appliance.Cli;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Tests.Config;

/// <summary><c>xdpstack run -c FILE [--check]</c>: exit codes and what goes to stdout and stderr.</summary>
[Collection(XdpstackProcess.Collection)]
public sealed class RunCommandTests : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    private const string BadFile = """
        [workers]
        batch = 0

        [[interface]]
        name = "eth1"
        adresses = ["198.18.0.1/24"]

        [[route]]
        prefix = "198.19.0.1/16"
        via = "198.18.0.2"
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("xdpstack-run-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Run_BadFile_ExitsTwoWithEveryErrorOnStderrAndNothingOnStdout()
    {
        string path = Write("bad.toml", BadFile);
        var output = new StringWriter();
        var error = new StringWriter();

        int code = RunCommand.Run(path, checkOnly: false, FakeHostFacts.TwoPorts(), output, error);

        Assert.Equal(2, code);
        Assert.Equal("", output.ToString());
        Assert.Equal(
        [
            $"{path}:2:9: 'batch' in [workers] must be from 1 to 256, not 0",
            $"{path}:6:1: unknown key 'adresses' in [[interface]] (did you mean 'addresses'?)",
            $"{path}:9:10: 'prefix' in [[route]]: '198.19.0.1/16' has host bits set (the prefix is 198.19.0.0/16)",
        ], Lines(error.ToString()));
    }

    [Fact]
    public void Run_CheckOfValidFile_PrintsOneSummaryLineAndExitsZero()
    {
        string path = ExampleConfigTests.ExamplePath("router.toml");
        var output = new StringWriter();
        var error = new StringWriter();

        int code = RunCommand.Run(path, checkOnly: true, FakeHostFacts.TwoPorts(), output, error);

        Assert.Equal(0, code);
        Assert.Equal("", error.ToString());
        Assert.Equal([$"{path}: ok: 2 interfaces (eth1, eth2), 4 routes, 1 static neighbor, 0 services"], Lines(output.ToString()));
    }

    [Fact]
    public void Run_CheckOfEqualPrefixAndMetricRoutes_ReportsOneMultipathGroup()
    {
        // Two gateways on two links for one prefix and metric: one ECMP group, not a duplicate; a third route with
        // another metric is a backup and stays out of the group.
        string path = Write("ecmp.toml", """
            [[interface]]
            name = "eth1"
            addresses = ["198.18.0.1/24"]
            [[interface]]
            name = "eth2"
            addresses = ["198.18.1.1/24"]
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.0.2"
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.1.2"
            weight = 3
            [[route]]
            prefix = "198.19.0.0/16"
            via = "198.18.1.3"
            metric = 10
            """);
        var output = new StringWriter();
        var error = new StringWriter();

        int code = RunCommand.Run(path, checkOnly: true, FakeHostFacts.TwoPorts(), output, error);

        Assert.Equal("", error.ToString());
        Assert.Equal(0, code);
        Assert.Equal(
            [$"{path}: ok: 2 interfaces (eth1, eth2), 3 routes (1 multipath group: 198.19.0.0/16 metric 0 over 2 next hops), 0 static neighbors, 0 services"],
            Lines(output.ToString()));
    }

    [Fact]
    public void Process_CheckOfBadFile_ExitsTwoWithErrorsOnStderrOnly()
    {
        // Against the real machine: 'xdpcfg-none0' exists nowhere, so the device check adds its line.
        string path = Write("bad.toml", BadFile.Replace("eth1", "xdpcfg-none0", StringComparison.Ordinal));

        CommandResult result = XdpstackProcess.Run(null, ExitTimeout, "run", "--check", "-c", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal(
        [
            $"{path}:2:9: 'batch' in [workers] must be from 1 to 256, not 0",
            $"{path}:5:8: no network interface named 'xdpcfg-none0' in this network namespace (see 'ip link')",
            $"{path}:6:1: unknown key 'adresses' in [[interface]] (did you mean 'addresses'?)",
            $"{path}:9:10: 'prefix' in [[route]]: '198.19.0.1/16' has host bits set (the prefix is 198.19.0.0/16)",
        ], Lines(result.StandardError));
    }

    [Fact]
    public void Process_MissingFile_ExitsTwo()
    {
        string path = Path.Combine(_directory, "absent.toml");

        CommandResult result = XdpstackProcess.Run(null, ExitTimeout, "run", "--config", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal([$"{path}: cannot read the config file: no such file"], Lines(result.StandardError));
    }

    [Fact]
    public void Process_CheckOfValidFileOnLoopback_ExitsZeroAndAttachesNothing()
    {
        // lo exists in every network namespace and has one queue; --check must leave it untouched.
        string path = Write("lo.toml", """
            [[interface]]
            name = "lo"
            queues = [0]
            addresses = ["198.18.0.1/24"]
            [[service]]
            kind = "udp-echo"
            port = 7
            """);
        uint programBefore = NetDevice.Open("lo").XdpProgramId;

        CommandResult result = XdpstackProcess.Run(null, ExitTimeout, "run", "--check", "-c", path);

        Assert.Equal("", result.StandardError);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal([$"{path}: ok: 1 interface (lo), 0 routes, 0 static neighbors, 1 service"], Lines(result.StandardOutput));
        Assert.Equal(programBefore, NetDevice.Open("lo").XdpProgramId);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}
