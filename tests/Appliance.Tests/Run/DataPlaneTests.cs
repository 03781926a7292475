using XdpStack.Appliance.Run;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Workers;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>The stack on AF_XDP, in-process, routing between two Linux hosts in namespaces.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class DataPlaneTests
{
    [Fact]
    public void Router_LinuxHostsPingAndSendUdp_ForwardedBothWaysInBothFamilies()
    {
        using var lab = new RunLab();
        var report = new List<string>();
        using (ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan(), report: report))
        {
            try
            {
                AssertPing(lab.HostA, RunLab.HostBIpv4, ttl: 63);
                AssertPing(lab.HostB, RunLab.HostAIpv4, ttl: 63);
                AssertPing(lab.HostA, RunLab.HostBIpv6, ttl: 63);
                AssertPing(lab.HostB, RunLab.HostAIpv6, ttl: 63);
                // The appliance's own addresses answer too, on both sides.
                AssertPing(lab.HostA, RunLab.RouterAIpv4, ttl: 64);
                AssertPing(lab.HostA, RunLab.RouterBIpv4, ttl: 64);
                AssertPing(lab.HostB, RunLab.RouterAIpv6, ttl: 64);

                foreach ((NetNamespace from, string src, NetNamespace to, string dst) in (ValueTuple<NetNamespace, string, NetNamespace, string>[])
                [
                    (lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4),
                    (lab.HostB, RunLab.HostBIpv4, lab.HostA, RunLab.HostAIpv4),
                    (lab.HostA, RunLab.HostAIpv6, lab.HostB, RunLab.HostBIpv6),
                    (lab.HostB, RunLab.HostBIpv6, lab.HostA, RunLab.HostAIpv6),
                ])
                {
                    UdpTransfer.Result r = UdpTransfer.Run(from, src, to, dst, 10_000);
                    Assert.True(r.Received == 10_000 && r.Intact == 10_000 && r.Duplicates == 0 && r.InOrder, $"{src} -> {dst}: {r}\n{Counters(host)}");
                }
                RunWorkerCounters c = host.Plane.Workers[0].Counters;
                Assert.True(c.FastForwardedIpv4 >= 20_000, Counters(host));
                Assert.True(c.FastForwardedIpv6 >= 20_000, Counters(host));
            }
            finally
            {
                host.Plane.Stop();
                foreach (RunWorker worker in host.Plane.Workers)
                {
                    Thread.Sleep(50);
                    worker.ReapAfterStop();
                    FrameAccount account = worker.Account();
                    Assert.True(account.Balanced, $"worker {worker.Index}: {account}");
                }
            }
        }
        Assert.False(HasXdp(lab.Dut, lab.DutAIf) || HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
    }

    private static void AssertPing(NetNamespace from, string to, int ttl)
    {
        CommandResult ping = from.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", to);
        Assert.True(ping.ExitCode == 0 && ping.StandardOutput.Contains("3 received", StringComparison.Ordinal), $"ping {to}: {ping.StandardOutput}{ping.StandardError}");
        string ttlText = to.Contains(':', StringComparison.Ordinal) ? $"ttl={ttl}" : $"ttl={ttl}";
        Assert.Contains(ttlText, ping.StandardOutput);
    }

    private static bool HasXdp(NetNamespace ns, string dev) => ns.Ip("-d", "link", "show", "dev", dev).Contains("prog/xdp", StringComparison.Ordinal);

    internal static string Counters(ApplianceHost host)
    {
        var lines = new List<string>();
        foreach (RunWorker w in host.Plane.Workers)
        {
            RunWorkerCounters c = w.Counters;
            lines.Add($"worker {w.Index}: batches {c.Batches} fast4 {c.FastForwardedIpv4} fast6 {c.FastForwardedIpv6} slow {c.SlowPath} replies {c.InPlaceReplies} built {c.StackBuilt} handoff out/in {c.HandoffsOut}/{c.HandoffsIn} drops: handoff {c.HandoffFullDrops} pool {c.PoolEmptyDrops} fwd {c.ForwardDrops}");
            foreach (RunPort p in w.Ports)
                lines.Add($"  {p.Link.Name} q{p.Socket.QueueId}: rx {p.RxPackets} tx {p.TxPackets} fill {p.FillSubmitted} completed {p.Completed} txfull {p.TxRingFullDrops}");
        }
        return string.Join('\n', lines);
    }
}
