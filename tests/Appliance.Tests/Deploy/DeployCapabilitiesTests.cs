using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Tests.Run;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// The capabilities the systemd unit and docker-compose.yml grant are enough: `xdpstack run` started as an
/// unprivileged user with exactly the unit's ambient capabilities (setpriv, as systemd would with DynamicUser and
/// AmbientCapabilities) attaches its programs, opens its AF_XDP sockets and routes between two Linux hosts.
/// </summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class DeployCapabilitiesTests
{
    private const string Nobody = "65534";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_AsAnUnprivilegedUserWithTheUnitsCapabilities_Routes()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab);
        try
        {
            using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, ["run", "-c", config], null, Setpriv(SystemdUnitTests.Capabilities()));
            router.WaitForOutput("xdpstack: ready", StartTimeout);
            CommandResult ping = lab.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", RunLab.HostBIpv4);
            Assert.True(ping.ExitCode == 0 && ping.StandardOutput.Contains("ttl=63", StringComparison.Ordinal), ping.StandardOutput + ping.StandardError);
            router.Signal("TERM");
            // What this test checks is the exit status and that nothing stays attached; the time to stop is checked
            // by RunProcessTests. One CI run saw the kernel take over 5 s to unmap the exiting process on a loaded machine.
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Theory]
    [InlineData("CAP_NET_RAW")]
    [InlineData("CAP_BPF")]
    public void Run_WithOneCapabilityLess_RefusesAndNamesIt(string withheld)
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab);
        try
        {
            string[] fewer = SystemdUnitTests.Capabilities().Where(c => c != withheld).ToArray();
            Assert.Equal(SystemdUnitTests.Capabilities().Length - 1, fewer.Length);
            using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, ["run", "-c", config], null, Setpriv(fewer));
            int code = router.WaitForExit(StartTimeout);
            Assert.NotEqual(0, code);
            Assert.Contains(withheld, router.StandardError);
            Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program was attached");
        }
        finally
        {
            File.Delete(config);
        }
    }

    /// <summary>setpriv switching to nobody and keeping only <paramref name="capabilities"/>, as ambient capabilities.</summary>
    private static string[] Setpriv(IEnumerable<string> capabilities)
    {
        Assert.True(Shell.Exists("setpriv"), "setpriv is not installed: apt-get install util-linux");
        string set = "-all," + string.Join(',', capabilities.Select(c => "+" + c["CAP_".Length..].ToLowerInvariant()));
        return ["setpriv", "--reuid=" + Nobody, "--regid=" + Nobody, "--clear-groups",
            "--inh-caps=" + set, "--ambient-caps=" + set, "--bounding-set=" + set, "--"];
    }

    private static string WriteConfig(RunLab lab)
    {
        string path = Path.Combine(Path.GetTempPath(), $"xdpstack-{lab.Tag}-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, $"""
            # Written by DeployCapabilitiesTests: host A — xdpstack — host B.
            [workers]
            cores = [{Environment.ProcessorCount - 1}]

            [xdp]
            frames_per_worker = 8192
            lpm_huge_pages = false

            [[interface]]
            name = "{lab.DutAIf}"
            addresses = ["{RunLab.RouterAIpv4}/24", "{RunLab.RouterAIpv6}/64"]

            [[interface]]
            name = "{lab.DutBIf}"
            addresses = ["{RunLab.RouterBIpv4}/24", "{RunLab.RouterBIpv6}/64"]
            """);
        return path;
    }
}
