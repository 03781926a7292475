using System.Globalization;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Lab;
using static XdpStack.Appliance.Tests.Run.RunProcessTests;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>Once set up, <c>xdpstack run</c> gives up root on every thread and keeps only CAP_NET_ADMIN on the main one.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class RunPrivilegeTests
{
    private const ulong NetAdmin = 1UL << 12;

    [Fact]
    public void Run_AfterSetup_EveryThreadUnprivileged_MainKeepsNetAdmin_AndEverythingStillWorks()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: """
            [[service]]
            kind = "udp-echo"
            port = 7
            """);
        // Generic attach with GRO on: the appliance turns GRO off and must turn it back on at the stop, which needs the
        // CAP_NET_ADMIN the main thread keeps.
        File.WriteAllText(config, File.ReadAllText(config).Replace("lpm_huge_pages = false", "lpm_huge_pages = false\nattach = \"generic\"", StringComparison.Ordinal));
        lab.Dut.Run(TimeSpan.FromSeconds(10), "ethtool", "-K", lab.DutAIf, "gro", "on");
        Assert.Contains("generic-receive-offload: on", lab.Dut.Run(TimeSpan.FromSeconds(10), "ethtool", "-k", lab.DutAIf).StandardOutput);
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", TimeSpan.FromSeconds(30));
        Assert.Contains("generic-receive-offload: off", lab.Dut.Run(TimeSpan.FromSeconds(10), "ethtool", "-k", lab.DutAIf).StandardOutput);
        Assert.True(router.StandardOutput.Contains("running as nobody (uid 65534", StringComparison.Ordinal), router.StandardOutput);

        // Every thread of the process, the runtime's own included, as /proc shows them.
        string[] tasks = Directory.GetDirectories($"/proc/{router.Id}/task");
        Assert.True(tasks.Length > 5, $"only {tasks.Length} threads");
        foreach (string task in tasks)
        {
            Dictionary<string, string> status = Status(task);
            bool main = Path.GetFileName(task) == router.Id.ToString(CultureInfo.InvariantCulture);
            Assert.Equal("65534\t65534\t65534\t65534", status["Uid"]);
            Assert.Equal("65534\t65534\t65534\t65534", status["Gid"]);
            Assert.Equal("", status["Groups"]);
            ulong effective = ulong.Parse(status["CapEff"], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong permitted = ulong.Parse(status["CapPrm"], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            Assert.True(effective == (main ? NetAdmin : 0) && permitted == effective, $"thread {status["Name"]} ({task}): CapEff {status["CapEff"]}, CapPrm {status["CapPrm"]}");
            if (main)
            {
                Assert.Equal(NetAdmin, ulong.Parse(status["CapBnd"], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                Assert.Equal("1", status["NoNewPrivs"]);
            }
        }

        // Unprivileged, it still forwards, answers, reloads and serves root's show; others are refused.
        Ping(lab.HostA, RunLab.HostBIpv4, "ttl=63");
        Assert.Equal(20, Echo(lab.HostA, RunLab.HostAIpv4, RunLab.RouterAIpv4, 7, 20));
        router.Signal("HUP");
        router.WaitForOutput("reloaded", TimeSpan.FromSeconds(10));
        CommandResult show = XdpstackProcess.Run(lab.Dut, TimeSpan.FromSeconds(30), "show", "interfaces");
        Assert.True(show.ExitCode == 0, show.StandardError);
        Assert.Contains(lab.DutAIf, show.StandardOutput);
        // The socket file now belongs to nobody, so only the peer check keeps a process of that user out: the same
        // request, as root and as nobody.
        string ask = "import socket, sys\n" +
            "s = socket.socket(socket.AF_UNIX)\n" +
            $"s.connect('{XdpstackProcess.TestSocket}')\n" +
            "try:\n    s.sendall(b'stats\\n'); print(len(s.recv(65536)))\n" +
            "except (BrokenPipeError, ConnectionResetError):\n    print(0)\n";
        Assert.NotEqual("0", Shell.Run("/usr/bin/python3", ["-c", ask], TimeSpan.FromSeconds(30)).StandardOutput.Trim());
        CommandResult asNobody = Shell.Run("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c", ask], TimeSpan.FromSeconds(30));
        Assert.True(asNobody.ExitCode == 0 && asNobody.StandardOutput.Trim() == "0", $"nobody's request: {asNobody.ExitCode} {asNobody.StandardOutput} {asNobody.StandardError}");

        // The stop, on the main thread with CAP_NET_ADMIN: programs detached, GRO back on, the socket file gone.
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
        Assert.Contains("generic-receive-offload: on", lab.Dut.Run(TimeSpan.FromSeconds(10), "ethtool", "-k", lab.DutAIf).StandardOutput);
        Assert.False(File.Exists(XdpstackProcess.TestSocket), "the control socket file stayed");
    }

    [Fact]
    public void Run_UserEmpty_StaysRoot()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab, extraRoutes: "", services: "");
        File.AppendAllText(config, "\n[management]\nuser = \"\"\n");
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", TimeSpan.FromSeconds(30));
        Assert.Contains("staying root", router.StandardOutput);
        Assert.Equal("0\t0\t0\t0", Status($"/proc/{router.Id}")["Uid"]);
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
    }

    private static Dictionary<string, string> Status(string procDirectory) =>
        File.ReadAllLines(Path.Combine(procDirectory, "status"))
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim());
}
