using System.Diagnostics;
using System.Runtime.InteropServices;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;
using XdpStack.Stack.Wire;
using static XdpStack.Appliance.Tests.Run.RunProcessTests;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>Faults an operator meets while <c>xdpstack run</c> forwards: links going down, devices deleted, other XDP programs, a small memlock limit.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class RunFaultTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_SinkLinkDownThenUp_ReportedAndForwardingRecoversWithoutRestart()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: "");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");

        Assert.Contains($"xdpstack_interface_up{{device=\"{lab.DutBIf}\"}} 1", Scrape(lab));

        lab.Dut.Ip("link", "set", lab.DutBIf, "down");
        router.WaitForOutput($"{lab.DutBIf}: link down (set down)", TimeSpan.FromSeconds(10));
        Assert.Contains($"xdpstack_interface_up{{device=\"{lab.DutBIf}\"}} 0", Scrape(lab));
        CommandResult unreachable = lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "1", RunLab.HostBIpv4);
        Assert.DoesNotContain(" 0% packet loss", unreachable.StandardOutput);

        lab.Dut.Ip("link", "set", lab.DutBIf, "up");
        router.WaitForOutput($"{lab.DutBIf}: link up", TimeSpan.FromSeconds(10));
        Assert.Contains($"xdpstack_interface_up{{device=\"{lab.DutBIf}\"}} 1", Scrape(lab));
        WaitFor(() => lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "1", RunLab.HostBIpv4).ExitCode == 0, "forwarding did not come back");
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");
        Ping(lab.HostB, RunLab.HostAIpv6, "ttl=63");

        // The far end goes down: the appliance's side loses its carrier (a veth is running only while its peer is up).
        lab.HostB.Ip("link", "set", lab.HostBIf, "down");
        router.WaitForOutput($"{lab.DutBIf}: link down (no carrier)", TimeSpan.FromSeconds(10));
        lab.HostB.Ip("link", "set", lab.HostBIf, "up");
        // Linux flushed host B's routes through the link it set down.
        lab.HostB.Ip("route", "replace", "default", "via", RunLab.RouterBIpv4);
        WaitFor(() => lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "1", RunLab.HostBIpv4).ExitCode == 0, "forwarding did not come back after the carrier");
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Run_OwnedInterfaceDeleted_ReportedAndTheOtherKeepsAnswering()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: """
            [[service]]
            kind = "udp-echo"
            port = 7
            """);
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");

        lab.Dut.Ip("link", "del", lab.DutBIf);
        router.WaitForOutput($"{lab.DutBIf}: deleted", TimeSpan.FromSeconds(10));
        Thread.Sleep(500);
        Assert.False(router.HasExited, "the appliance died when an interface was deleted: " + router.StandardError);
        Ping(lab.HostA, RunLab.RouterAIpv4, "ttl=64");
        Assert.Equal(50, Echo(lab.HostA, RunLab.HostAIpv4, RunLab.RouterAIpv4, 7, 50));
        Assert.Contains("Destination Net Unreachable", lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", RunLab.HostBIpv4).StandardOutput);

        var clock = Stopwatch.StartNew();
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"took {clock.Elapsed.TotalSeconds:F2} s to stop");
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf), "an XDP program stayed attached");
    }

    [Fact]
    public void Run_ForeignXdpProgram_RefusedUnlessReplacing_AndCannotDisplaceOurs()
    {
        using var lab = new RunLab();
        string program = PassProgram();
        try
        {
            lab.Dut.Ip("link", "set", "dev", lab.DutAIf, "xdp", "obj", program, "sec", "xdp");
            string foreign = lab.Dut.Ip("link", "show", "dev", lab.DutAIf);
            string config = WriteConfig(lab, extraRoutes: "", services: "");
            CommandResult refused = XdpstackProcess.Run(lab.Dut, TimeSpan.FromSeconds(60), "run", "-c", config);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"{lab.DutAIf} already has XDP program", refused.StandardError);
            Assert.Contains("replace_program = true", refused.StandardError);
            // Refusing touched nothing: the other program is still there, the second interface got none.
            Assert.Equal(ProgramId(foreign), ProgramId(lab.Dut.Ip("link", "show", "dev", lab.DutAIf)));
            Assert.False(RunLab.HasXdp(lab.Dut, lab.DutBIf), "a refused start left a program on the other interface");

            File.AppendAllText(config, "\n");
            string replacing = File.ReadAllText(config).Replace("lpm_huge_pages = false", "lpm_huge_pages = false\nreplace_program = true", StringComparison.Ordinal);
            File.WriteAllText(config, replacing);
            using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
            router.WaitForOutput("xdpstack: ready", StartTimeout);
            Assert.Contains($"{lab.DutAIf}: replaced XDP program {ProgramId(foreign)} as configured", router.StandardOutput);
            Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");

            // While it runs, the kernel refuses another program on its interfaces (BPF links cannot be displaced
            // through netlink, with or without -force, in either mode), and forwarding goes on.
            Assert.NotEqual(0, lab.Dut.Run(TimeSpan.FromSeconds(10), "ip", "link", "set", "dev", lab.DutAIf, "xdp", "obj", program, "sec", "xdp").ExitCode);
            Assert.NotEqual(0, lab.Dut.Run(TimeSpan.FromSeconds(10), "ip", "-force", "link", "set", "dev", lab.DutBIf, "xdp", "obj", program, "sec", "xdp").ExitCode);
            Assert.NotEqual(0, lab.Dut.Run(TimeSpan.FromSeconds(10), "ip", "link", "set", "dev", lab.DutBIf, "xdpgeneric", "obj", program, "sec", "xdp").ExitCode);
            Ping(lab.HostA, RunLab.HostBIpv6, "ttl=63");
            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
            Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
        }
        finally
        {
            File.Delete(program);
        }
    }

    [Fact]
    public void Run_MemlockTooSmallWithoutIpcLock_SaysWhichLimitAndHowToGrantIt()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: "");
        // Without CAP_IPC_LOCK the kernel charges UMEM to RLIMIT_MEMLOCK; 64 KiB holds a few frames, not 8192 of them.
        using XdpstackProcess run = XdpstackProcess.Start(lab.Dut, ["run", "-c", config], null,
            ["setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "prlimit", "--memlock=65536:65536"]);
        Assert.Equal(1, run.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("locked-memory limit (64 KiB)", run.StandardError);
        Assert.Contains("ulimit -l unlimited", run.StandardError);
        Assert.Contains("CAP_IPC_LOCK", run.StandardError);
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "a refused start attached a program");
    }

    [Fact]
    public void Run_StalledUnderAFlood_RxRingFullAndFillRingEmptyCounted_RecoversAndLosesNoFrame()
    {
        // The process stops for 3 s (SIGSTOP) while host A floods: for the whole stretch nobody empties the RX ring
        // or refills the fill ring, so the kernel drops and counts. Then it must carry on as before, and still
        // account for every UMEM frame at the stop.
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: "");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");

        long sent = Flood(lab, TimeSpan.FromSeconds(6), during: () =>
        {
            Thread.Sleep(1000);
            router.Signal("STOP");
            Thread.Sleep(3000);
            router.Signal("CONT");
        });
        Assert.True(sent > 0, "the flood sent nothing");
        Assert.False(router.HasExited, "the appliance died after the stall: " + router.StandardError);
        string metrics = Scrape(lab);
        double kernelDrops = Value(metrics, "xdpstack_xsk_rx_ring_full_total", lab.DutAIf) + Value(metrics, "xdpstack_xsk_rx_dropped_total", lab.DutAIf);
        Assert.True(kernelDrops > 0, "the stall left no count of the frames the kernel could not deliver:\n" + metrics);
        Assert.True(Value(metrics, "xdpstack_xsk_rx_fill_ring_empty_total", lab.DutAIf) + Value(metrics, "xdpstack_xsk_rx_ring_full_total", lab.DutAIf) > 0,
            "neither a full RX ring nor an empty fill ring was counted");
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");
        Ping(lab.HostB, RunLab.HostAIpv6, "ttl=63");
        StopAndCheckFrames(router, lab);
    }

    [Fact]
    public void Run_TxRingTooSmallForAFlood_TxRingFullCountedAsDrops_RecoversAndLosesNoFrame()
    {
        // A 64-entry TX ring toward host B, and batches of up to 256 frames from host A's flood: whenever the worker
        // reads more than 64 at once, the rest find no room. Every such frame is a counted drop (tx_ring_full), and
        // forwarding carries on after.
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: "");
        File.WriteAllText(config, File.ReadAllText(config)
            .Replace("fill_ring = 2048", "fill_ring = 2048\ntx_ring = 64", StringComparison.Ordinal)
            .Replace("[workers]", "[workers]\nbatch = 256", StringComparison.Ordinal));
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", StartTimeout);
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");

        double before = Value(Scrape(lab), "xdpstack_drops_total", lab.DutBIf, "reason=\"tx_ring_full\"");
        long sent = Flood(lab, TimeSpan.FromSeconds(4), during: () => { });
        Assert.True(sent > 0, "the flood sent nothing");
        // The last frames of the flood may still be between the RX ring and the TX ring for a moment.
        Thread.Sleep(1000);
        string metrics = Scrape(lab);
        double full = Value(metrics, "xdpstack_drops_total", lab.DutBIf, "reason=\"tx_ring_full\"") - before;
        double forwarded = Value(metrics, "xdpstack_forwarded_packets_total", lab.DutAIf);
        double transmitted = Value(metrics, "xdpstack_transmit_packets_total", lab.DutBIf);
        Assert.True(full > 0, "a 64-entry TX ring never ran full under the flood");
        // Each frame the fast path forwarded toward B, and each the stack built for B (ARP, and what it forwarded
        // itself while B's address was being resolved), either went onto B's TX ring or was dropped for want of room.
        double stackForwarded = Value(metrics, "xdpstack_ip_packets_total", lab.DutAIf, "type=\"forwarded\"");
        double built = Value(metrics, "xdpstack_stack_frames_total", lab.DutBIf, "type=\"sent\"");
        double otherDrops = Value(metrics, "xdpstack_drops_total", lab.DutBIf, "reason=\"umem_pool_empty\"");
        Assert.True(forwarded - stackForwarded + built == transmitted + full + before + otherDrops,
            $"forwarded {forwarded} - by the stack {stackForwarded} + built {built} != transmitted {transmitted} + tx_ring_full {full + before} + umem_pool_empty {otherDrops}:\n"
            + string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("xdpstack_", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal))));
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");
        StopAndCheckFrames(router, lab);
    }

    // Floods host B through the router from host A's veth (AF_XDP, as fast as it goes) for the given time, running
    // `during` meanwhile; returns the frames sent.
    private static long Flood(RunLab lab, TimeSpan length, Action during)
    {
        MacAddress hostA = MacAddress.Parse(RunLab.MacOf(lab.HostA, lab.HostAIf)), router = MacAddress.Parse(RunLab.MacOf(lab.Dut, lab.DutAIf));
        lab.HostA.Ip("neigh", "replace", RunLab.RouterAIpv4, "lladdr", router.ToString(), "dev", lab.HostAIf, "nud", "permanent");
        Ipv4Address a4 = Ipv4Address.Parse(RunLab.HostAIpv4), b4 = Ipv4Address.Parse(RunLab.HostBIpv4);
        byte[][] templates = [.. Enumerable.Range(0, 8).Select(i => XdpGenerator.Udp4(hostA, router, a4, b4, (ushort)(31000 + i), 9, 18))];
        long sent = 0;
        var flood = new Thread(() => sent = XdpGenerator.Send(lab.HostA, lab.HostAIf, templates, long.MaxValue, length)) { IsBackground = true };
        flood.Start();
        during();
        flood.Join();
        return sent;
    }

    private static void StopAndCheckFrames(XdpstackProcess router, RunLab lab)
    {
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.Contains(": every frame accounted for", router.StandardOutput);
        Assert.DoesNotContain("unaccounted for", router.StandardOutput);
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
    }

    // Sums a family's series for one device (and one more label, when given) in a scrape.
    private static double Value(string metrics, string family, string device, string? label = null) =>
        metrics.Split('\n')
            .Where(line => line.StartsWith(family + "{", StringComparison.Ordinal)
                && (line.Contains($"{{device=\"{device}\"", StringComparison.Ordinal) || line.Contains($",device=\"{device}\"", StringComparison.Ordinal))
                && (label is null || line.Contains(label, StringComparison.Ordinal)))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static string Scrape(RunLab lab)
    {
        CommandResult scrape = lab.Dut.Run(TimeSpan.FromSeconds(10), "curl", "-sS", "--max-time", "5", "http://127.0.0.1:9469/metrics");
        Assert.True(scrape.ExitCode == 0, scrape.StandardError);
        return scrape.StandardOutput;
    }

    // An XDP program of someone else's: passes every frame.
    private static string PassProgram()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"xdpstack-pass-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string source = Path.Combine(dir, "pass.c");
        File.WriteAllText(source, """
            #include <linux/bpf.h>
            __attribute__((section("xdp"), used)) int pass(struct xdp_md *ctx) { return XDP_PASS; }
            char _license[] __attribute__((section("license"), used)) = "GPL";
            """);
        string obj = Path.Combine(Path.GetTempPath(), $"xdpstack-pass-{Guid.NewGuid():N}.o");
        CommandResult cc = Shell.Run("clang", [ "-O2", "-target", "bpf", $"-I/usr/include/{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant() switch { "x64" => "x86_64", "arm64" => "aarch64", var a => a }}-linux-gnu", "-c", source, "-o", obj], TimeSpan.FromSeconds(60));
        Directory.Delete(dir, recursive: true);
        Assert.True(cc.ExitCode == 0, cc.StandardError);
        return obj;
    }

    private static string ProgramId(string ipLinkShow)
    {
        System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(ipLinkShow, @"prog/xdp id (\d+)");
        Assert.True(m.Success, ipLinkShow);
        return m.Groups[1].Value;
    }

    private static void WaitFor(Func<bool> condition, string message)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), message);
            Thread.Sleep(200);
        }
    }
}
