using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;
using Xunit.Abstractions;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>
/// Issue 14's BGP test at scale in the real process: BIRD in the appliance's namespace peers with BIRD on host A
/// through the punt TAP, host A announces 10,000 /32s, the kernel FIB sync brings them into the appliance, host B's
/// traffic to 50 of them is forwarded, and a withdrawal takes them away, the session Established throughout.
/// </summary>
/// <remarks>
/// The prefixes are 198.19.0.1 to 198.19.39.250 (250 per /24); host A owns every 200th on its loopback so it answers
/// for the sample. Forwarding is read from the appliance's own counters (the full stack's Ipv4PacketsForwarded and the
/// workers' fast_forwarded_ipv4), not only from the replies. The session's "since" time from <c>show protocols</c>
/// (BIRD's last state change) must not move from Established to the end.
/// </remarks>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class BgpScaleProcessTests(ITestOutputHelper output)
{
    private const string Tap = "xs-a";
    private const int Prefixes = 10_000;
    private const int SampleEvery = 200;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_BirdAnnounces10000PrefixesThroughThePunt_AllSynced_SampleForwarded_WithdrawalStopsIt_SessionStaysEstablished()
    {
        Assert.True(Shell.Exists("bird") && Shell.Exists("birdc"), "bird2 is not installed (.ci/setup installs it)");
        var clock = Stopwatch.StartNew();
        using var lab = new RunLab();
        string[] sample = [.. Enumerable.Range(0, Prefixes / SampleEvery).Select(i => Address(i * SampleEvery))];
        foreach (string address in sample)
            lab.HostA.Ip("addr", "add", address + "/32", "dev", "lo");
        string directory = Path.Combine(Path.GetTempPath(), $"xdpstack-bgp-{lab.Tag}-{Guid.NewGuid():N}"[..40]);
        string socket = Path.Combine(directory, "control.sock");
        string config = Path.Combine(Path.GetTempPath(), $"xdpstack-bgp-{lab.Tag}-{Guid.NewGuid():N}.toml");
        try
        {
            WriteConfig(lab, config);
            using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config, "--socket", socket);
            router.WaitForOutput("xdpstack: ready", StartTimeout);
            int baseline = KernelIpv4Routes(socket);

            using BirdDaemon dut = BirdDaemon.Start(lab.Dut, $$"""
                log stderr all;
                router id {{RunLab.RouterAIpv4}};
                protocol device { scan time 1; }
                protocol kernel { ipv4 { import none; export all; }; }
                protocol bgp hosta {
                    local {{RunLab.RouterAIpv4}} as 65001;
                    neighbor {{RunLab.HostAIpv4}} as 65002;
                    connect retry time 1;
                    ipv4 { import all; export none; };
                }
                """);
            using BirdDaemon hostA = BirdDaemon.Start(lab.HostA, HostAConfig());
            Assert.True(dut.WaitEstablished("hosta", TimeSpan.FromSeconds(60), out string state),
                $"{state}{dut.Output}\nhost A: {hostA.Ask("show", "protocols", "all", "dut")}{hostA.Output}\nxdpstack: {router.StandardOutput}{router.StandardError}");
            string since = Since(dut);
            TimeSpan toEstablished = clock.Elapsed;
            var established = Stopwatch.StartNew();

            WaitFor(() => KernelIpv4Routes(socket) >= baseline + Prefixes, TimeSpan.FromSeconds(120),
                () => $"the appliance counts {KernelIpv4Routes(socket) - baseline} of {Prefixes} kernel routes; BIRD: {dut.Ask("show", "protocols", "all", "hosta")}");
            TimeSpan toAppliance = established.Elapsed;
            using (JsonDocument summary = RouteSummary(socket))
                Assert.True(summary.RootElement.GetProperty("ipv4_routes").GetInt32() >= Prefixes, summary.RootElement.ToString());

            // Host B to the sample: forwarded B → A by the appliance, answered by host A, forwarded back.
            long forwardedBefore = Forwarded(socket);
            foreach (string address in sample)
                Assert.True(Ping(lab.HostB, address, out string reply) && reply.Contains("ttl=63", StringComparison.Ordinal), $"{address}: {reply}");
            long forwarded = Forwarded(socket) - forwardedBefore;
            Assert.True(forwarded >= 2 * sample.Length, $"the appliance counted {forwarded} forwarded packets for {sample.Length} answered pings");
            AssertStillEstablished(dut, since);

            // Withdrawn at the source: BGP takes the routes away, BIRD removes them from the kernel, the sync from the
            // appliance, which now refuses the traffic.
            string disabled = hostA.Ask("disable", "announced");
            Assert.Contains("disabled", disabled);
            var withdrawn = Stopwatch.StartNew();
            WaitFor(() => KernelIpv4Routes(socket) == baseline, TimeSpan.FromSeconds(120),
                () => $"{KernelIpv4Routes(socket) - baseline} kernel routes left after the withdrawal");
            TimeSpan toWithdrawn = withdrawn.Elapsed;
            TimeSpan atWithdrawal = clock.Elapsed;
            Assert.DoesNotContain("198.19.", Show(socket, "routes"));
            // The appliance refuses them: one ping answered by its "Destination Net Unreachable" (its ICMP errors to one
            // host are rate-limited, as Linux's are, so one is asked for, not fifty), then a datagram to each of the
            // fifty, none of which it forwards.
            Assert.False(Ping(lab.HostB, sample[^1], out string refused), $"{sample[^1]} still answers: {refused}");
            Assert.True(refused.Contains("Destination Net Unreachable", StringComparison.Ordinal), $"{sample[^1]}: {refused}");
            forwardedBefore = Forwarded(socket);
            SendDatagrams(lab.HostB, sample);
            Thread.Sleep(500);
            Assert.Equal(0, Forwarded(socket) - forwardedBefore);
            AssertStillEstablished(dut, since);
            Assert.Contains("Established", hostA.Ask("show", "protocols", "dut"));

            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Established {toEstablished.TotalSeconds:F1} s into the test; {Prefixes} prefixes in the appliance {toAppliance.TotalSeconds:F1} s after; withdrawn from it {toWithdrawn.TotalSeconds:F1} s after the static protocol was disabled ({atWithdrawal.TotalSeconds:F1} s into the test); test {clock.Elapsed.TotalSeconds:F0} s"));
        }
        finally
        {
            File.Delete(config);
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The i-th announced /32: 198.19.(i / 250).(i % 250 + 1).</summary>
    private static string Address(int i) => string.Create(CultureInfo.InvariantCulture, $"198.19.{i / 250}.{i % 250 + 1}");

    private static string HostAConfig()
    {
        var routes = new StringBuilder();
        for (int i = 0; i < Prefixes; i++)
            routes.Append(CultureInfo.InvariantCulture, $"    route {Address(i)}/32 blackhole;\n");
        return $$"""
            log stderr all;
            router id {{RunLab.HostAIpv4}};
            protocol device { scan time 1; }
            protocol static announced {
                ipv4;
            {{routes}}}
            protocol bgp dut {
                local {{RunLab.HostAIpv4}} as 65002;
                neighbor {{RunLab.RouterAIpv4}} as 65001;
                connect retry time 1;
                ipv4 { import none; export all; };
            }
            """;
    }

    /// <summary>The "since" column of <c>show protocols hosta</c>: when the session last changed state.</summary>
    private static string Since(BirdDaemon bird)
    {
        string table = bird.Ask("show", "protocols", "hosta");
        Match row = Regex.Match(table, @"(?m)^hosta\s+BGP\s+\S+\s+up\s+(\S+(?: \S+)?)\s+Established");
        Assert.True(row.Success, "hosta is not up and Established: " + table);
        return row.Groups[1].Value;
    }

    private static void AssertStillEstablished(BirdDaemon bird, string since) =>
        Assert.True(Since(bird) == since, $"the session changed state since {since}: {bird.Ask("show", "protocols", "all", "hosta")}\nBIRD's log:\n{bird.Output}");

    /// <summary>One echo request, tried up to three times (a busy runner may lose one); true when answered.</summary>
    private static bool Ping(NetNamespace from, string to, out string reply)
    {
        reply = "";
        for (int attempt = 0; attempt < 3; attempt++)
        {
            CommandResult result = from.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", to);
            reply = result.StandardOutput + result.StandardError;
            if (result.ExitCode == 0 || reply.Contains("Unreachable", StringComparison.Ordinal))
                return result.ExitCode == 0;
        }
        return false;
    }

    /// <summary>One UDP datagram from <paramref name="from"/> to port 9 of each address.</summary>
    private static void SendDatagrams(NetNamespace from, string[] addresses)
    {
        string script = "import socket\n"
            + "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            + $"for a in \"{string.Join(' ', addresses)}\".split():\n"
            + "    s.sendto(b\"withdrawn?\", (a, 9))\n";
        CommandResult result = from.Run(TimeSpan.FromSeconds(30), "/usr/bin/python3", "-c", script);
        Assert.True(result.ExitCode == 0, result.StandardError);
    }

    /// <summary>IPv4 packets the appliance forwarded: the full stack's (every NIC's Ipv4PacketsForwarded) and the fast paths' (every worker's fast_forwarded_ipv4).</summary>
    private static long Forwarded(string socket)
    {
        using JsonDocument json = JsonDocument.Parse(Show(socket, "counters", "--json"));
        long sum = 0;
        foreach (JsonElement nic in json.RootElement.GetProperty("interfaces").EnumerateArray())
            sum += nic.GetProperty("counters").GetProperty("Ipv4PacketsForwarded").GetInt64();
        foreach (JsonElement worker in json.RootElement.GetProperty("workers").EnumerateArray())
            sum += worker.GetProperty("counters").GetProperty("fast_forwarded_ipv4").GetInt64();
        return sum;
    }

    private static int KernelIpv4Routes(string socket)
    {
        using JsonDocument json = RouteSummary(socket);
        return json.RootElement.GetProperty("kernel_ipv4_routes").GetInt32();
    }

    private static JsonDocument RouteSummary(string socket) => JsonDocument.Parse(Show(socket, "route-summary", "--json"));

    private static string Show(string socket, params string[] what)
    {
        CommandResult result = XdpstackProcess.Run(null, TimeSpan.FromSeconds(30), ["show", .. what, "--socket", socket]);
        Assert.True(result.ExitCode == 0, $"show {string.Join(' ', what)}: {result.StandardError}");
        return result.StandardOutput;
    }

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, Func<string> message)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, message());
            Thread.Sleep(250);
        }
    }

    private static void WriteConfig(RunLab lab, string path) => File.WriteAllText(path, $"""
        # Written by BgpScaleProcessTests: host A (BGP peer) — xdpstack (punting A's side to {Tap}) — host B.
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
        punt = true
        punt_tap = "{Tap}"

        [[interface]]
        name = "{lab.DutBIf}"
        addresses = ["{RunLab.RouterBIpv4}/24", "{RunLab.RouterBIpv6}/64"]
        """);
}
