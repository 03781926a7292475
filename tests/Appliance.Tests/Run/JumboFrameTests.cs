using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Run;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Workers;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Run;

/// <summary>Frames larger than a UMEM frame: multi-buffer AF_XDP over 9000-MTU veths, and the way down to a 1500-MTU side.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class JumboFrameTests
{
    // 9000-byte IP packets: the largest payloads a 9000 MTU carries unfragmented.
    private const int Ipv4Payload = 9000 - 20 - 8, Ipv6Payload = 9000 - 40 - 8;

    [Fact]
    public void Router_9000MtuBothSides_PingAndUdpOfFullSizeForwardedAndAnsweredInBothFamilies()
    {
        using var lab = new RunLab(mtuA: 9000, mtuB: 9000);
        var report = new List<string>();
        // Static neighbours: NUD timers (control work, which may allocate) stay off the worker while it is measured.
        using ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan(lab.StaticHosts()), report: report);
        try
        {
            Assert.True(host.Plane.MultiBuffer, string.Join('\n', report));
            Assert.Contains(report, line => line.Contains("multi-buffer", StringComparison.Ordinal));
            Assert.All(host.Plane.Workers.SelectMany(w => w.Ports), p => Assert.True(p.Socket.MultiBuffer));

            // Forwarded whole (DF set), and answered by the appliance itself, in both families.
            AssertFullSizePing(lab.HostA, RunLab.HostBIpv4, Ipv4Payload, "ttl=63", host);
            AssertFullSizePing(lab.HostB, RunLab.HostAIpv4, Ipv4Payload, "ttl=63", host);
            AssertFullSizePing(lab.HostA, RunLab.HostBIpv6, Ipv6Payload, "ttl=63", host);
            AssertFullSizePing(lab.HostB, RunLab.HostAIpv6, Ipv6Payload, "ttl=63", host);
            AssertFullSizePing(lab.HostA, RunLab.RouterAIpv4, Ipv4Payload, "ttl=64", host);
            AssertFullSizePing(lab.HostB, RunLab.RouterBIpv6, Ipv6Payload, "ttl=64", host);

            (NetNamespace, string, NetNamespace, string, int)[] transfers =
            [
                (lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, Ipv4Payload),
                (lab.HostB, RunLab.HostBIpv4, lab.HostA, RunLab.HostAIpv4, Ipv4Payload),
                (lab.HostA, RunLab.HostAIpv6, lab.HostB, RunLab.HostBIpv6, Ipv6Payload),
                (lab.HostB, RunLab.HostBIpv6, lab.HostA, RunLab.HostAIpv6, Ipv6Payload),
            ];
            // Warm-up: the JIT allocates on the thread that first runs a method.
            foreach ((NetNamespace from, string src, NetNamespace to, string dst, int size) in transfers)
                UdpTransfer.Run(from, src, to, dst, 20, size: size, burst: 4);
            RunWorker worker = host.Plane.Workers[0];
            DataPlaneTests.WaitIdle(worker);
            long allocatedBefore = worker.Counters.AllocatedBytes;
            foreach ((NetNamespace from, string src, NetNamespace to, string dst, int size) in transfers)
            {
                UdpTransfer.Result r = UdpTransfer.Run(from, src, to, dst, 2_000, size: size, burst: 8);
                Assert.True(r.Received == 2_000 && r.Intact == 2_000 && r.Duplicates == 0 && r.InOrder,
                    $"{src} -> {dst}, {size} bytes: {r}\n{DataPlaneTests.Counters(host)}\nreceiver: {to.Run(TimeSpan.FromSeconds(5), "nstat", "-az", "UdpRcvbufErrors", "Udp6RcvbufErrors", "UdpInErrors", "Udp6InErrors", "IpReasmFails").StandardOutput}" +
                    $"{lab.HostA.Ip("-s", "link", "show", "dev", lab.HostAIf)}{lab.HostB.Ip("-s", "link", "show", "dev", lab.HostBIf)}{lab.Dut.Ip("-s", "link")}");
            }
            // Gathering and chaining allocate nothing on the worker.
            DataPlaneTests.WaitIdle(worker);
            Assert.Equal(allocatedBefore, worker.Counters.AllocatedBytes);
            RunWorkerCounters c = worker.Counters;
            // Each forwarded datagram came in as a chain, was gathered, and left as a chain again.
            Assert.True(c.JumboReceived >= 8_000 && c.JumboSent >= 8_000 && c.Dropped(WorkerDrop.Oversize) == 0, DataPlaneTests.Counters(host));
            Assert.True(host.Plane.Workers[0].Ports.All(p => p.RxDescriptors >= p.RxPackets + 2 * 4_000), DataPlaneTests.Counters(host));
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

    [Fact]
    public void Router_9000MtuTowardA1500MtuSide_FragmentsOrSaysFragmentationNeededAndPacketTooBig()
    {
        using var lab = new RunLab(mtuA: 9000, mtuB: 1500);
        var report = new List<string>();
        using ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan(), report: report);
        try
        {
            CommandResult df = lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "2", "-M", "do", "-s", Ipv4Payload.ToString(), RunLab.HostBIpv4);
            Assert.Contains("Frag needed and DF set (mtu = 1500)", df.StandardOutput + df.StandardError);
            CommandResult big6 = lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "1", "-W", "2", "-M", "do", "-s", Ipv6Payload.ToString(), RunLab.HostBIpv6);
            Assert.Contains("Packet too big: mtu=1500", big6.StandardOutput + big6.StandardError);
            // Without DF the appliance cuts the 9000-byte packet into 1500-byte fragments; B's reply, fragmented by B,
            // comes back through it and A reassembles it.
            CommandResult fragmented = lab.HostA.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "dont", "-s", Ipv4Payload.ToString(), RunLab.HostBIpv4);
            Assert.True(fragmented.StandardOutput.Contains("3 received", StringComparison.Ordinal), fragmented.StandardOutput + DataPlaneTests.Counters(host));
            // Having learnt the path MTU from the Packet Too Big, A fragments itself and the appliance forwards the pieces.
            UdpTransfer.Result r6 = UdpTransfer.Run(lab.HostA, RunLab.HostAIpv6, lab.HostB, RunLab.HostBIpv6, 500, size: Ipv6Payload, burst: 4);
            Assert.True(r6.Received == 500 && r6.Intact == 500 && r6.InOrder, r6 + "\n" + DataPlaneTests.Counters(host));
            UdpTransfer.Result back = UdpTransfer.Run(lab.HostB, RunLab.HostBIpv4, lab.HostA, RunLab.HostAIpv4, 500, size: Ipv4Payload, burst: 4);
            Assert.True(back.Received == 500 && back.Intact == 500 && back.InOrder, back + "\n" + DataPlaneTests.Counters(host));
        }
        finally
        {
            host.Plane.Stop();
            foreach (RunWorker worker in host.Plane.Workers)
            {
                Thread.Sleep(50);
                worker.ReapAfterStop();
                Assert.True(worker.Account().Balanced, $"worker {worker.Index}: {worker.Account()}");
            }
        }
    }

    [Fact]
    public void Run_9000Mtu_UdpEchoServiceAnswersFullSizeDatagramsInBothFamilies()
    {
        using var lab = new RunLab(mtuA: 9000, mtuB: 9000);
        string config = RunProcessTests.WriteConfig(lab, extraRoutes: "", services: """
            [[service]]
            kind = "udp-echo"
            port = 7
            """);
        using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
        router.WaitForOutput("xdpstack: ready", TimeSpan.FromSeconds(30));
        Assert.Contains("multi-buffer", router.StandardOutput);
        Assert.Equal(200, RunProcessTests.Echo(lab.HostA, RunLab.HostAIpv4, RunLab.RouterAIpv4, 7, 200, Ipv4Payload));
        Assert.Equal(200, RunProcessTests.Echo(lab.HostB, RunLab.HostBIpv6, RunLab.RouterBIpv6, 7, 200, Ipv6Payload));
        // Sizes either side of one frame's capacity (4096 - 256 headroom), where a packet turns into a chain.
        foreach (int size in new[] { 3700, 3780, 3790, 3800, 3900, 4096, 8000 })
            Assert.Equal(5, RunProcessTests.Echo(lab.HostA, RunLab.HostAIpv4, RunLab.RouterAIpv4, 7, 5, size));
        router.Signal("TERM");
        Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
    }

    private static void AssertFullSizePing(NetNamespace from, string to, int payload, string ttl, ApplianceHost host)
    {
        CommandResult ping = from.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", payload.ToString(), to);
        Assert.True(ping.ExitCode == 0 && ping.StandardOutput.Contains("3 received", StringComparison.Ordinal),
            $"ping -s {payload} {to}: {ping.StandardOutput}{ping.StandardError}\n{DataPlaneTests.Counters(host)}");
        Assert.Contains($"{payload + 8} bytes from", ping.StandardOutput);
        Assert.Contains(ttl, ping.StandardOutput);
    }
}
