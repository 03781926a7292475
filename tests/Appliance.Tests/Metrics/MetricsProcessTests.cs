using System.Text.RegularExpressions;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Tests.Run;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Metrics;

/// <summary>The real <c>xdpstack run</c> process routing between two Linux hosts, scraped the way Prometheus would.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed partial class MetricsProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_WithTraffic_ServesEveryDocumentedFamily_CountersMoveWithTheTraffic_PromtoolAcceptsIt()
    {
        using var lab = new RunLab();
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: "", services: "");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains("xdpstack: metrics on http://127.0.0.1:9469/metrics", router.StandardOutput);
        using HttpClient client = NamespaceHttp.Client(lab.Dut, "http://127.0.0.1:9469/");
        // Resolve the neighbours first, so no datagram of the transfers waits (or is dropped) in a resolution queue.
        RunProcessTests.Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");
        RunProcessTests.Ping(lab.HostB, RunLab.HostAIpv6, "ttl=63");
        Exposition before = Exposition.Parse(NamespaceHttp.Get(client, "metrics"));

        UdpTransfer.Result v4 = UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 10_000);
        // A loaded runner may lose a few datagrams in the kernel; what arrived is what the counters must at least show.
        Assert.True(v4.Received >= 9_500, v4.ToString());
        UdpTransfer.Result v6 = UdpTransfer.Run(lab.HostB, RunLab.HostBIpv6, lab.HostA, RunLab.HostAIpv6, 3_000);
        Assert.True(v6.Received >= 2_850, v6.ToString());
        // Two drops with their reasons: TTL 1 (Time Exceeded sent) and an unrouted destination (Net Unreachable).
        lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "1", "-t", "1", RunLab.HostBIpv4);
        lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "1", "198.19.99.1");

        string text = NamespaceHttp.Get(client, "metrics");
        Exposition after = Exposition.Parse(text);

        // Every family of the contract is there, with its type and at least one series.
        foreach (MetricsDoc.Family family in MetricsDoc.Families())
        {
            Assert.True(after.Types.TryGetValue(family.Name, out string? type) && type == family.Type, $"{family.Name}: type {type ?? "(absent)"}, documented {family.Type}");
            Assert.True(after.Samples.Any(s => s.Name == family.Name || s.Name.StartsWith(family.Name + "_", StringComparison.Ordinal)), $"{family.Name} has no series");
        }
        // prometheus-net's runtime families come along.
        Assert.Contains(after.Samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
        Assert.Contains(after.Samples, s => s.Name.StartsWith("process_", StringComparison.Ordinal));

        string a = lab.DutAIf, b = lab.DutBIf;
        double Delta(string name, params string[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        string detail = text;
        Assert.True(Delta("xdpstack_receive_packets_total", "device=" + a) >= v4.Received, detail);
        Assert.True(Delta("xdpstack_transmit_packets_total", "device=" + b) >= v4.Received, detail);
        Assert.True(Delta("xdpstack_receive_packets_total", "device=" + b) >= v6.Received, detail);
        Assert.True(Delta("xdpstack_transmit_packets_total", "device=" + a) >= v6.Received, detail);
        Assert.True(Delta("xdpstack_receive_bytes_total", "device=" + a) >= v4.Received * (14 + 20 + 8 + 256), detail);
        // Forwarded by pair, in the direction each flow went (the fast paths and the stack together).
        Assert.True(Delta("xdpstack_forwarded_packets_total", "device=" + a, "out_device=" + b) >= v4.Received, detail);
        Assert.True(Delta("xdpstack_forwarded_packets_total", "device=" + b, "out_device=" + a) >= v6.Received, detail);
        Assert.True(Delta("xdpstack_forwarded_packets_total", "device=" + a, "out_device=" + b) <= 10_100, detail);
        Assert.True(Delta("xdpstack_drops_total", "device=" + a, "reason=ttl_exceeded") >= 1, detail);
        Assert.True(Delta("xdpstack_drops_total", "device=" + a, "reason=no_route") >= 1, detail);
        Assert.True(Delta("xdpstack_icmp_packets_total", "device=" + a, "family=ipv4", "type=time_exceeded_sent") >= 1, detail);
        Assert.True(Delta("xdpstack_icmp_packets_total", "device=" + a, "family=ipv4", "type=dest_unreachable_sent") >= 1, detail);
        // The router resolved host B itself, and answered host A's resolution of it.
        Assert.True(after.Sum("xdpstack_arp_packets_total", "device=" + b, "type=request_sent") >= 1, detail);
        Assert.True(after.Sum("xdpstack_neighbor_entries", "device=" + b, "family=ipv4") >= 1, detail);
        Assert.True(after.Sum("xdpstack_routes", "family=ipv4") >= 2 && after.Sum("xdpstack_routes", "family=ipv6") >= 2, detail);

        // Copy mode asks for TX kicks; an idle worker sleeps in poll().
        Assert.True(Delta("xdpstack_wakeups_total", "device=" + b, "direction=tx") >= 1, detail);
        Assert.True(Delta("xdpstack_wakeups_total", "direction=rx") >= 1, detail);
        Assert.True(Delta("xdpstack_worker_polls_total") > 0, detail);
        double busy = after.Sum("xdpstack_worker_busy_seconds_total"), total = after.Sum("xdpstack_worker_seconds_total");
        Assert.True(busy > 0 && busy <= total, $"busy {busy} s of {total} s");
        Assert.True(Delta("xdpstack_rx_batch_size_count") >= 1 && Delta("xdpstack_rx_batch_size_sum") >= v4.Received + v6.Received, detail);
        Assert.True(after.Sum("xdpstack_umem_free_frames") <= after.Sum("xdpstack_umem_frames"), detail);
        Assert.Equal(2048, after.Value("xdpstack_ring_size", "device=" + a, "ring=fill"));
        Assert.Equal(1, after.Value("xdpstack_socket_info", "device=" + a, "mode=copy"));
        Assert.Equal(1, after.Value("xdpstack_build_info", "command=run"));

        // Labels are bounded: names, small integers and closed sets, never an address.
        foreach (Exposition.Sample s in after.Samples.Where(s => s.Name.StartsWith("xdpstack_", StringComparison.Ordinal)))
        {
            foreach ((string label, string value) in s.Labels)
                Assert.False(Ipv4().IsMatch(value) || value.Contains("::", StringComparison.Ordinal) || Ipv6OrMac().IsMatch(value), $"{s.Name} {label}=\"{value}\" looks like an address");
        }

        PromtoolCheck(text);

        // Reloads: one that applies, one refused (a file that no longer parses).
        router.Signal("HUP");
        router.WaitForOutput("reloaded", TimeSpan.FromSeconds(10));
        File.WriteAllText(config, "[[interface]\nname = \n");
        router.Signal("HUP");
        router.WaitForError("reload of", TimeSpan.FromSeconds(10));
        Exposition reloaded = Exposition.Parse(NamespaceHttp.Get(client, "metrics"));
        Assert.Equal(1, reloaded.Value("xdpstack_config_reloads_total", "result=success"));
        Assert.Equal(1, reloaded.Value("xdpstack_config_reloads_total", "result=failure"));
        Assert.Equal(0, reloaded.Value("xdpstack_config_last_reload_successful"));

        // A second appliance on the same address stops before it touches anything, naming the address and the key.
        RunProcessTests.WriteConfig(lab, extraRoutes: "", services: "", path: config);
        CommandResult second = XdpstackProcess.Run(lab.Dut, TimeSpan.FromSeconds(30), "run", "-c", config);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("127.0.0.1:9469", second.StandardError);
        Assert.Contains("[management] listen", second.StandardError);
        RunProcessTests.Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");

        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
    }

    [Fact]
    public void Run_ListenEmpty_ServesNothingAndSaysSo()
    {
        using var lab = new RunLab();
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: "", services: "[management]\nlisten = \"\"");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Assert.Contains("xdpstack: metrics: off", router.StandardOutput);
        CommandResult listening = lab.Dut.Run("ss", "-Htln", "sport", "=", ":9469");
        Assert.Equal("", listening.StandardOutput.Trim());
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    /// <summary>Runs <c>promtool check metrics</c> on a scrape; promtool comes with Debian's prometheus package (.ci/setup installs it).</summary>
    internal static void PromtoolCheck(string exposition)
    {
        string file = Path.Combine(Path.GetTempPath(), $"xdpstack-scrape-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, exposition);
        try
        {
            CommandResult check = Shell.Run("sh", ["-c", $"promtool check metrics < {file}"], TimeSpan.FromSeconds(30));
            Assert.True(check.ExitCode == 0 && check.StandardOutput.Trim().Length == 0 && check.StandardError.Trim().Length == 0,
                $"promtool check metrics: exit {check.ExitCode}: {check.StandardOutput}{check.StandardError}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")]
    private static partial Regex Ipv4();

    [GeneratedRegex(@"^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{0,4}){2,7}$")]
    private static partial Regex Ipv6OrMac();
}
