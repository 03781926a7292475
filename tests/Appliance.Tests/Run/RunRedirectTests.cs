using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>The real <c>xdpstack run</c> sending an NDP Redirect that a Linux host takes (RFC 4861 §8.2).</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class RunRedirectTests
{
    private const string RouterALinkLocal = "fe80::1";
    private const string OnLinkPrefix = "2001:2:0:3::/64";
    private const string OnLinkDestination = "2001:2:0:3::9";

    [Fact]
    public void Run_Ipv6PacketBackOutOfItsLink_LinuxHostTakesTheRedirect()
    {
        // Host A reaches 2001:2:0:3::/64 through the appliance's link-local address, as a host that learned its router
        // from a Router Advertisement does; the appliance knows that prefix is on A's own link. So host A's packet goes
        // back out of the link it came in on, and the appliance tells A to send to the destination directly: Linux
        // takes a Redirect only from the link-local address of the router its route names.
        using var lab = new RunLab();
        string config = Path.Combine(Path.GetTempPath(), $"xdpstack-{lab.Tag}-{Guid.NewGuid():N}.toml");
        File.WriteAllText(config, $"""
            [workers]
            cores = [{Environment.ProcessorCount - 1}]

            [xdp]
            frames_per_worker = 8192
            fill_ring = 2048
            lpm_huge_pages = false

            [[interface]]
            name = "{lab.DutAIf}"
            addresses = ["{RunLab.RouterAIpv4}/24", "{RunLab.RouterAIpv6}/64", "{RouterALinkLocal}/64"]

            [[interface]]
            name = "{lab.DutBIf}"
            addresses = ["{RunLab.RouterBIpv4}/24", "{RunLab.RouterBIpv6}/64"]

            [[route]]
            prefix = "{OnLinkPrefix}"
            interface = "{lab.DutAIf}"
            """);
        try
        {
            lab.HostA.Ip("-6", "route", "add", OnLinkPrefix, "via", RouterALinkLocal, "dev", lab.HostAIf);
            using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
            router.WaitForOutput("xdpstack: ready", TimeSpan.FromSeconds(30));
            Assert.Contains("via " + RouterALinkLocal, RouteGet(lab));

            // Nobody owns the destination, so the ping goes unanswered; the Redirect comes back at once.
            lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "1", "-W", "1", OnLinkDestination);
            string after = RouteGet(lab);
            Assert.DoesNotContain("via", after);
            Assert.Contains("dev " + lab.HostAIf, after);

            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            File.Delete(config);
        }
    }

    private static string RouteGet(RunLab lab)
    {
        CommandResult get = lab.HostA.Run(TimeSpan.FromSeconds(10), "ip", "-6", "route", "get", OnLinkDestination);
        Assert.True(get.ExitCode == 0, get.StandardError);
        return get.StandardOutput;
    }
}
