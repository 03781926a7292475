using System.Diagnostics;
using System.Text.Json;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;
using Xunit.Abstractions;

namespace XdpStack.Appliance.Tests.Routing;

/// <summary>The real <c>xdpstack run</c> following a weighted kernel multipath route: <c>nexthop ... weight 1 nexthop ... weight 3</c> splits flows 1:3.</summary>
/// <remarks>
/// A sender behind the appliance's first interface, two sinks behind its second and third; 198.19.9.0/24 is a kernel
/// route in the appliance's namespace over both sinks. Each flow is one UDP datagram from its own source port
/// (Layer 4 hash); what the appliance sent out of each sink's interface (its own socket counters) gives the split.
/// Loss on a busy runner takes from both paths alike, so the test counts only what was forwarded and asks for enough of it.
/// </remarks>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class KernelRouteWeightProcessTests(ITestOutputHelper output)
{
    private const int Flows = 4000;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_KernelMultipathWeights1And3_FlowsSplit1To3()
    {
        using var lab = new NetworkLab();
        NetNamespace sender = lab.AddNamespace("s"), dut = lab.AddNamespace("dut"), sink1 = lab.AddNamespace("p1"), sink2 = lab.AddNamespace("p2");
        (string senderIf, string dutS) = lab.AddVeth(sender, dut);
        (string dut1, string sink1If) = lab.AddVeth(dut, sink1);
        (string dut2, string sink2If) = lab.AddVeth(dut, sink2);
        RouterDemo.QuietOwnedLinks(dut, dutS, dut1, dut2);
        RouterDemo.ConfigureHost(sender, senderIf, "198.18.1.2", "2001:2:0:1::2", "198.18.1.1", "2001:2:0:1::1");
        RouterDemo.ConfigureHost(sink1, sink1If, "198.18.2.2", "2001:2:0:2::2", "198.18.2.1", "2001:2:0:2::1");
        RouterDemo.ConfigureHost(sink2, sink2If, "198.18.3.2", "2001:2:0:3::2", "198.18.3.1", "2001:2:0:3::1");
        string directory = Path.Combine(Path.GetTempPath(), $"xdpstack-w-{lab.Tag}-{Guid.NewGuid():N}"[..40]);
        string socket = Path.Combine(directory, "control.sock");
        string config = Path.Combine(Path.GetTempPath(), $"xdpstack-w-{lab.Tag}-{Guid.NewGuid():N}.toml");
        try
        {
            File.WriteAllText(config, $"""
                # Written by KernelRouteWeightProcessTests: sender — xdpstack — two sinks, a weighted kernel route.
                [workers]
                cores = [{Environment.ProcessorCount - 1}]

                [xdp]
                frames_per_worker = 8192
                fill_ring = 2048
                lpm_huge_pages = false

                [kernel_routes]
                sync = true

                [[interface]]
                name = "{dutS}"
                addresses = ["198.18.1.1/24"]

                [[interface]]
                name = "{dut1}"
                addresses = ["198.18.2.1/24"]

                [[interface]]
                name = "{dut2}"
                addresses = ["198.18.3.1/24"]
                """);
            using XdpstackProcess router = XdpstackProcess.Start(dut, "run", "-c", config, "--socket", socket);
            router.WaitForOutput("xdpstack: ready", StartTimeout);
            dut.Ip("route", "add", "198.19.9.0/24", "proto", "static",
                "nexthop", "via", "198.18.2.2", "dev", dut1, "onlink", "weight", "1",
                "nexthop", "via", "198.18.3.2", "dev", dut2, "onlink", "weight", "3");
            WaitFor(() => KernelIpv4Routes(socket) == 2, () => "the weighted route did not arrive: " + Show(socket, "routes"));
            // show routes says what ip route says: weight 1 unsaid, weight 3 said.
            string[] lines = Show(socket, "routes").Split('\n', StringSplitOptions.TrimEntries);
            Assert.Contains($"198.19.9.0/24 via 198.18.2.2 dev {dut1} proto kernel/static metric 0", lines);
            Assert.Contains($"198.19.9.0/24 via 198.18.3.2 dev {dut2} proto kernel/static metric 0 weight 3", lines);
            using (JsonDocument json = JsonDocument.Parse(Show(socket, "routes", "--json")))
            {
                Assert.Equal([1, 3], json.RootElement.GetProperty("routes").EnumerateArray()
                    .Where(r => r.GetProperty("prefix").GetString() == "198.19.9.0/24").Select(r => r.GetProperty("weight").GetInt32()).Order());
            }

            // Resolve both gateways before counting, so no flow is lost to a first ARP exchange.
            Send(sender, firstPort: 10000, count: 200);
            WaitFor(() => Neighbors(socket).Count(n => n is "198.18.2.2" or "198.18.3.2") == 2, () => "gateways not resolved: " + Show(socket, "neighbors"));

            long before1 = TxPackets(socket, dut1), before2 = TxPackets(socket, dut2);
            long to1 = 0, to2 = 0;
            for (int round = 0; round < 3 && to1 + to2 < Flows * 8 / 10; round++)
            {
                // A later round repeats the same flows, which take the same paths: the split is unchanged.
                Send(sender, firstPort: 20000, count: Flows);
                Thread.Sleep(500);
                to1 = TxPackets(socket, dut1) - before1;
                to2 = TxPackets(socket, dut2) - before2;
            }
            Assert.True(to1 + to2 >= Flows * 8 / 10, $"only {to1 + to2} datagrams forwarded ({to1} + {to2})");
            double share = (double)to1 / (to1 + to2);
            // 64 of the 256 buckets; over 4,000 flows the hash's spread is about 0.007, and ±0.05 is far outside it
            // while an unweighted split (0.5) or a reversed one (0.75) is far outside the band.
            Assert.True(Math.Abs(share - 0.25) <= 0.05, $"weight 1 took {share:F3} of the flows ({to1} of {to1 + to2}), not 0.25");

            output.WriteLine(System.FormattableString.Invariant($"weight 1: {to1}, weight 3: {to2} of {to1 + to2} forwarded ({share:F3} to weight 1)"));
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

    /// <summary>One UDP datagram to 198.19.9.1 from each source port in [firstPort, firstPort + count), paced so one CPU's sender does not flood the veth.</summary>
    private static void Send(NetNamespace sender, int firstPort, int count)
    {
        string script = $"""
            import socket, time
            for i in range({count}):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("198.18.1.2", {firstPort} + i))
                s.sendto(b"weighted flow", ("198.19.9.1", 9))
                s.close()
                if i % 100 == 99:
                    time.sleep(0.01)
            """;
        CommandResult result = sender.Run(TimeSpan.FromSeconds(60), "/usr/bin/python3", "-c", script);
        Assert.True(result.ExitCode == 0, result.StandardError);
    }

    private static long TxPackets(string socket, string device)
    {
        using JsonDocument json = JsonDocument.Parse(Show(socket, "counters", "--json"));
        long sum = 0;
        foreach (JsonElement worker in json.RootElement.GetProperty("workers").EnumerateArray())
        {
            foreach (JsonElement port in worker.GetProperty("sockets").EnumerateArray())
            {
                if (port.GetProperty("interface").GetString() == device)
                    sum += port.GetProperty("counters").GetProperty("tx_packets").GetInt64();
            }
        }
        return sum;
    }

    private static int KernelIpv4Routes(string socket)
    {
        using JsonDocument json = JsonDocument.Parse(Show(socket, "route-summary", "--json"));
        return json.RootElement.GetProperty("kernel_ipv4_routes").GetInt32();
    }

    private static string[] Neighbors(string socket)
    {
        using JsonDocument json = JsonDocument.Parse(Show(socket, "neighbors", "--json"));
        return [.. json.RootElement.GetProperty("neighbors").EnumerateArray()
            .Where(n => n.GetProperty("state").GetString() is "reachable" or "stale" or "delay" or "probe" or "static" or "permanent")
            .Select(n => n.GetProperty("address").GetString()!)];
    }

    private static string Show(string socket, params string[] what)
    {
        CommandResult result = XdpstackProcess.Run(null, TimeSpan.FromSeconds(30), ["show", .. what, "--socket", socket]);
        Assert.True(result.ExitCode == 0, $"show {string.Join(' ', what)}: {result.StandardError}");
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
