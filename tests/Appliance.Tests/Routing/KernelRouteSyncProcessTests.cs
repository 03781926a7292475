using System.Diagnostics;
using System.Text.Json;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Tests.Run;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Routing;

/// <summary>The real <c>xdpstack run</c> with <c>[kernel_routes] sync = true</c>: <c>ip route</c> in its namespace changes what it forwards and what <c>show routes</c> lists.</summary>
/// <remarks>
/// Host A — appliance — host B (<see cref="RunLab"/>); host B answers for 198.19.5.1, 198.19.6.1 and 2001:2:0:9::1 on
/// its loopback, which the appliance reaches only through routes added to the kernel of its own namespace. The
/// kernel there has no addresses on the owned links, so the routes name their gateways <c>onlink</c>.
/// </remarks>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class KernelRouteSyncProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_KernelRoutesAddedAndDeleted_ForwardingFollows_ShowRoutesNamesTheirSources_ReloadKeepsThem()
    {
        using var lab = new RunLab();
        lab.HostB.Ip("addr", "add", "198.19.5.1/32", "dev", "lo");
        lab.HostB.Ip("addr", "add", "198.19.6.1/32", "dev", "lo");
        lab.HostB.Ip("addr", "add", "2001:2:0:9::1/128", "dev", "lo");
        // IPv6 routes need IPv6 on the device; without an address of its own (addr_gen_mode none) the kernel stays quiet on it.
        foreach (string dev in new[] { lab.DutAIf, lab.DutBIf })
        {
            lab.Dut.Check("sh", "-c", $"echo 1 > /proc/sys/net/ipv6/conf/{dev}/addr_gen_mode; echo 0 > /proc/sys/net/ipv6/conf/{dev}/router_solicitations; echo 0 > /proc/sys/net/ipv6/conf/{dev}/disable_ipv6");
        }
        string directory = Path.Combine(Path.GetTempPath(), $"xdpstack-fib-{lab.Tag}-{Guid.NewGuid():N}"[..40]);
        string socket = Path.Combine(directory, "control.sock");
        string config = Path.Combine(Path.GetTempPath(), $"xdpstack-fib-{lab.Tag}-{Guid.NewGuid():N}.toml");
        try
        {
            WriteConfig(lab, config, extraRoute: "");
            using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config, "--socket", socket);
            router.WaitForOutput("xdpstack: ready", StartTimeout);
            Assert.Contains("xdpstack: kernel routes: following table main (IPv4 and IPv6)", router.StandardOutput);
            Assert.Contains("Destination Net Unreachable", lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", "198.19.5.1").StandardOutput);

            // A route as BIRD would install it, one as FRR would (multipath), one by hand (proto boot), and a blackhole.
            lab.Dut.Ip("route", "add", "198.19.5.0/24", "via", RunLab.HostBIpv4, "dev", lab.DutBIf, "onlink", "proto", "bird", "metric", "20");
            lab.Dut.Ip("route", "add", "198.19.6.0/24", "proto", "zebra",
                "nexthop", "via", RunLab.HostBIpv4, "dev", lab.DutBIf, "onlink", "nexthop", "via", RunLab.HostAIpv4, "dev", lab.DutAIf, "onlink");
            lab.Dut.Ip("-6", "route", "add", "2001:2:0:9::/64", "via", RunLab.HostBIpv6, "dev", lab.DutBIf, "onlink");
            lab.Dut.Ip("route", "add", "blackhole", "198.19.8.0/24");

            string bird = $"198.19.5.0/24 via {RunLab.HostBIpv4} dev {lab.DutBIf} proto kernel/bird metric 20";
            string boot6 = $"2001:2:0:9::/64 via {RunLab.HostBIpv6} dev {lab.DutBIf} proto kernel/boot metric 1024";
            WaitFor(() => Show(socket).Contains(boot6, StringComparison.Ordinal) && Show(socket).Contains(bird, StringComparison.Ordinal), () => "kernel routes did not appear: " + Show(socket));
            RunProcessTests.Ping(lab.HostA, "198.19.5.1", "ttl=63");
            RunProcessTests.Ping(lab.HostA, "2001:2:0:9::1", "ttl=63");

            string routes = Show(socket);
            Assert.Contains($"198.19.6.0/24 via {RunLab.HostBIpv4} dev {lab.DutBIf} proto kernel/zebra metric 0", routes);
            Assert.Contains($"198.19.6.0/24 via {RunLab.HostAIpv4} dev {lab.DutAIf} proto kernel/zebra metric 0", routes);
            Assert.Contains($"198.18.1.0/24 dev {lab.DutAIf} proto connected metric 0", routes);
            Assert.DoesNotContain("198.19.8.0", routes);
            router.WaitForOutput("1 blackhole", TimeSpan.FromSeconds(5));
            using (JsonDocument json = JsonDocument.Parse(XdpstackProcess.Run(null, TimeSpan.FromSeconds(30), "show", "routes", "--json", "--socket", socket).StandardOutput))
            {
                JsonElement[] group = [.. json.RootElement.GetProperty("routes").EnumerateArray().Where(r => r.GetProperty("prefix").GetString() == "198.19.6.0/24")];
                Assert.Equal(2, group.Length);
                Assert.All(group, r => Assert.Equal(("kernel", "zebra", 0), (r.GetProperty("source").GetString(), r.GetProperty("protocol").GetString(), r.GetProperty("metric").GetInt32())));
                JsonElement sync = json.RootElement.GetProperty("kernel_sync");
                Assert.Equal("main", sync.GetProperty("table").GetString());
                Assert.Equal(0, sync.GetProperty("malformed").GetInt64());
                Assert.Equal(1, sync.GetProperty("not_unicast").GetProperty("blackhole").GetInt64());
            }
            // Each notification that needed a publication was timed to it: the three unicast adds at least (the
            // blackhole needs none when it comes alone, so it may be untimed).
            using (JsonDocument json = JsonDocument.Parse(XdpstackProcess.Run(null, TimeSpan.FromSeconds(30), "show", "route-summary", "--json", "--socket", socket).StandardOutput))
            {
                JsonElement latency = json.RootElement.GetProperty("kernel_sync").GetProperty("latency");
                Assert.True(latency.GetProperty("changes").GetInt64() >= 3, latency.ToString());
                Assert.Equal(latency.GetProperty("changes").GetInt64(), latency.GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64()));
                double p50 = latency.GetProperty("p50_milliseconds").GetDouble(), p99 = latency.GetProperty("p99_milliseconds").GetDouble();
                Assert.InRange(p50, 1, p99);
                Assert.InRange(latency.GetProperty("max_milliseconds").GetDouble(), p99 - 1, p99);
                // The IPv4 fast path is double-buffered: at most the first update after each full build copies its LPM.
                JsonElement fast = json.RootElement.GetProperty("fast_path");
                int full = fast.GetProperty("ipv4_full_builds").GetInt32(), copies = fast.GetProperty("ipv4_lpm_copies").GetInt32();
                Assert.True(full >= 1 && copies <= full, fast.ToString());
            }
            string summary = XdpstackProcess.Run(null, TimeSpan.FromSeconds(30), "show", "route-summary", "--socket", socket).StandardOutput;
            Assert.Contains("notification to publication:", summary);
            Assert.Contains("of them on a copied LPM)", summary);

            // A reload that adds a config route keeps the kernel's routes.
            WriteConfig(lab, config, extraRoute: $"""
                [[route]]
                prefix = "198.19.7.0/24"
                via = "{RunLab.HostBIpv4}"
                """);
            router.Signal("HUP");
            router.WaitForOutput("reloaded", TimeSpan.FromSeconds(10));
            routes = Show(socket);
            Assert.Contains($"198.19.7.0/24 via {RunLab.HostBIpv4} dev {lab.DutBIf} proto config metric 0", routes);
            Assert.Contains(bird, routes);
            Assert.Contains(boot6, routes);

            // Deleted from the kernel, gone from the appliance: host A's ping is refused again.
            lab.Dut.Ip("route", "del", "198.19.5.0/24");
            lab.Dut.Ip("-6", "route", "del", "2001:2:0:9::/64");
            WaitFor(() => lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "1", "198.19.5.1").StandardOutput.Contains("Destination Net Unreachable", StringComparison.Ordinal),
                () => "the IPv4 route was not removed: " + Show(socket));
            routes = Show(socket);
            Assert.DoesNotContain("198.19.5.0/24", routes);
            Assert.DoesNotContain("2001:2:0:9::/64", routes);
            Assert.Contains("198.19.6.0/24", routes);
            Assert.Contains("198.19.7.0/24", routes);
            CommandResult ping6 = lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "1", "2001:2:0:9::1");
            Assert.NotEqual(0, ping6.ExitCode);

            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            File.Delete(config);
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    private static void WriteConfig(RunLab lab, string path, string extraRoute) => File.WriteAllText(path, $"""
        # Written by KernelRouteSyncProcessTests: host A — xdpstack — host B, routes from the kernel.
        [workers]
        cores = [{Environment.ProcessorCount - 1}]

        [xdp]
        frames_per_worker = 8192
        fill_ring = 2048
        lpm_huge_pages = false

        [kernel_routes]
        sync = true

        [[interface]]
        name = "{lab.DutAIf}"
        addresses = ["{RunLab.RouterAIpv4}/24", "{RunLab.RouterAIpv6}/64"]

        [[interface]]
        name = "{lab.DutBIf}"
        addresses = ["{RunLab.RouterBIpv4}/24", "{RunLab.RouterBIpv6}/64"]

        {extraRoute}
        """);

    private static string Show(string socket)
    {
        CommandResult result = XdpstackProcess.Run(null, TimeSpan.FromSeconds(30), "show", "routes", "--socket", socket);
        Assert.True(result.ExitCode == 0, "show routes: " + result.StandardError);
        return result.StandardOutput;
    }

    private static void WaitFor(Func<bool> condition, Func<string> message)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), message());
            Thread.Sleep(200);
        }
    }
}
