using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Run;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Workers;
using XdpStack.Lab;
using XdpStack.Stack;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;
using XdpStack.Xdp;

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
                // ICMP Timestamp, which Linux answers too.
                CommandResult timestamp = lab.HostA.Run(TimeSpan.FromSeconds(20), "hping3", "--icmp", "--icmp-ts", "-c", "1", RunLab.RouterAIpv4);
                string said = timestamp.StandardOutput + timestamp.StandardError;
                Assert.True(timestamp.ExitCode == 0 && said.Contains("ICMP timestamp: Originate=", StringComparison.Ordinal)
                    && said.Contains("1 packets received", StringComparison.Ordinal), said);

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
        Assert.False(RunLab.HasXdp(lab.Dut, lab.DutAIf) || RunLab.HasXdp(lab.Dut, lab.DutBIf), "an XDP program stayed attached");
    }

    [Fact]
    public void Router_AMillionFramesForwardedAnsweredAndDropped_EveryFrameAccountedFor()
    {
        using var lab = new RunLab();
        // Static neighbours: NUD timers (control work, which may allocate) never run on the worker while it measures.
        using ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan(lab.StaticHosts()));
        // Let the hosts resolve the router, through the appliance's ARP and NDP answers.
        AssertPing(lab.HostA, RunLab.HostBIpv4, ttl: 63);
        AssertPing(lab.HostA, RunLab.HostBIpv6, ttl: 63);
        MacAddress hostA = MacAddress.Parse(RunLab.MacOf(lab.HostA, lab.HostAIf)), router = MacAddress.Parse(RunLab.MacOf(lab.Dut, lab.DutAIf));
        // Host A learns the router statically too, so its kernel sends no ARP or NDP of its own: the veth's counters
        // and the worker's are read one after the other, and a frame of chatter between the two reads would be
        // counted on one side only.
        lab.HostA.Ip("neigh", "replace", RunLab.RouterAIpv4, "lladdr", router.ToString(), "dev", lab.HostAIf, "nud", "permanent");
        lab.HostA.Ip("-6", "neigh", "replace", RunLab.RouterAIpv6, "lladdr", router.ToString(), "dev", lab.HostAIf, "nud", "permanent");
        Ipv4Address a4 = Ipv4Address.Parse(RunLab.HostAIpv4), b4 = Ipv4Address.Parse(RunLab.HostBIpv4), r4 = Ipv4Address.Parse(RunLab.RouterAIpv4);
        Ipv6Address a6 = Ipv6Address.Parse(RunLab.HostAIpv6), b6 = Ipv6Address.Parse(RunLab.HostBIpv6);
        // Ten kinds, one each per ten frames: six forwarded over IPv4 and one over IPv6 by the fast path, one echo request
        // the stack answers in place, one with a bad header checksum and one with TTL 1, both dropped and counted.
        byte[][] templates =
        [
            .. Enumerable.Range(0, 6).Select(i => XdpGenerator.Udp4(hostA, router, a4, b4, (ushort)(30000 + i), 9, 18)),
            XdpGenerator.Udp6(hostA, router, a6, b6, 30010, 9, 18),
            XdpGenerator.Echo4(hostA, router, a4, r4, 77, 18),
            XdpGenerator.Udp4(hostA, router, a4, b4, 30020, 9, 18, corruptHeaderChecksum: true),
            XdpGenerator.Udp4(hostA, router, a4, b4, 30021, 9, 18, ttl: 1),
        ];
        RunWorker worker = host.Plane.Workers[0];
        // Warm-up: the first frame of each kind compiles its path, and the JIT allocates on the calling thread.
        XdpGenerator.Send(lab.HostA, lab.HostAIf, templates, 20_000, TimeSpan.FromMinutes(1), rate: 100_000);
        WaitIdle(worker);
        long allocatedBefore = worker.Counters.AllocatedBytes;
        ulong rxBefore = worker.Ports[0].RxPackets, rxBBefore = worker.Ports[1].RxPackets;
        var nic = host.Stack.Nics[new NicId(1)];
        long badBefore = nic.Stats[StatCounter.Ipv4MalformedPacketsReceived];
        long ttlBefore = nic.Stats[StatCounter.Ipv4ForwardTtlExceeded];
        long echoBefore = nic.Stats[StatCounter.IcmpEchoRequestsReceived];
        ulong fast4Before = worker.Counters.FastForwardedIpv4, fast6Before = worker.Counters.FastForwardedIpv6;
        ulong repliesBefore = worker.Counters.InPlaceReplies;

        const long total = 1_000_000;
        long sentBefore = TxPackets(lab.HostA, lab.HostAIf);
        // A closed loop: at most 512 frames ahead of the worker, so that a 2-CPU runner, which also runs the generator
        // and both veths' kernel work, does not overrun the rings; the count below still holds whatever happens.
        XskSocket ingress = worker.Ports[0].Socket;
        XdpStatistics kernelBefore = ingress.GetStatistics();
        long consumed()
        {
            XdpStatistics s = ingress.GetStatistics();
            return (long)(worker.Ports[0].RxPackets - rxBefore + s.RxDropped - kernelBefore.RxDropped + s.RxRingFull - kernelBefore.RxRingFull);
        }
        long completed = XdpGenerator.Send(lab.HostA, lab.HostAIf, templates, total, TimeSpan.FromMinutes(3), consumed: consumed);
        Assert.Equal(total, completed);
        WaitIdle(worker);
        // What the veth carried to the appliance in that time: the generator's frames and any chatter of A's kernel.
        long carried = TxPackets(lab.HostA, lab.HostAIf) - sentBefore;

        XdpStatistics kernel = worker.Ports[0].Socket.GetStatistics();
        ulong received = worker.Ports[0].RxPackets - rxBefore;
        // rx_dropped already counts frames dropped for an empty fill ring (rx_fill_ring_empty_descs counts the events).
        ulong kernelDrops = kernel.RxDropped - kernelBefore.RxDropped + kernel.RxRingFull - kernelBefore.RxRingFull;
        string detail = $"received {received}, kernel drops {kernel}\n{Counters(host)}\n{lab.Dut.Ip("-s", "link", "show", "dev", lab.DutAIf)}{lab.HostA.Ip("-s", "link", "show", "dev", lab.HostAIf)}";
        // Every frame that reached the appliance's veth reached the worker or was dropped, and counted, by the kernel.
        Assert.True((ulong)carried == received + kernelDrops, $"carried {carried}: " + detail);
        Assert.True(received >= 990_000, "too many kernel drops: " + detail);
        // Every frame the worker took ended in exactly one counted outcome.
        ulong fast4 = worker.Counters.FastForwardedIpv4 - fast4Before, fast6 = worker.Counters.FastForwardedIpv6 - fast6Before;
        ulong replies = worker.Counters.InPlaceReplies - repliesBefore;
        long bad = nic.Stats[StatCounter.Ipv4MalformedPacketsReceived] - badBefore;
        long ttl = nic.Stats[StatCounter.Ipv4ForwardTtlExceeded] - ttlBefore;
        long echo = nic.Stats[StatCounter.IcmpEchoRequestsReceived] - echoBefore;
        // The fast-path counters also hold what came back from B (its kernel's rate-limited Port Unreachables, forwarded
        // to A); beyond that only the hosts' own chatter (ARP, NDP) may arrive, a handful of frames.
        ulong fromB = worker.Ports[1].RxPackets - rxBBefore;
        ulong classified = fast4 + fast6 + (ulong)bad + (ulong)ttl + (ulong)echo;
        Assert.True(classified <= received + fromB && received + fromB - classified <= 32 && carried - total <= 16,
            $"fast4 {fast4} fast6 {fast6} bad {bad} ttl {ttl} echo {echo}, from B {fromB}: " + detail);
        // Every echo request was answered in place; so were the few ARP requests and solicitations of the hosts.
        Assert.InRange(replies - (ulong)echo, 0UL, 16UL);
        Assert.True(fast4 > 500_000 && fast6 > 80_000 && bad > 80_000 && ttl > 80_000 && echo > 80_000, detail);
        // No allocation on the worker thread while it moved them.
        Assert.Equal(allocatedBefore, worker.Counters.AllocatedBytes);

        host.Plane.Stop();
        Thread.Sleep(100);
        worker.ReapAfterStop();
        FrameAccount account = worker.Account();
        Assert.True(account.Balanced, account.ToString());
        Assert.True(account.InTx == 0, "transmits never completed: " + account);
    }

    [Fact]
    public void Start_FillRingsThatCouldHoldTheWholeUmem_PoolKeepsItsReserveAndTheAnnouncementsLeave()
    {
        // Two fill rings of 4096 over a 4096-frame UMEM: filled to the brim, the first would take every frame, the
        // second none, and the ARP announcements of the router's addresses (the stack's first frames) would find the
        // pool empty. Nothing may be dropped for want of a frame, and both interfaces must receive.
        using var lab = new RunLab();
        ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan(), s => s with { FramesPerWorker = 4096, FillRingSize = 4096 });
        try
        {
            AssertPing(lab.HostA, RunLab.HostBIpv4, ttl: 63);
            AssertPing(lab.HostB, RunLab.HostAIpv4, ttl: 63);
            RunWorker worker = host.Plane.Workers[0];
            Assert.Equal(0UL, worker.Counters.Dropped(WorkerDrop.PoolEmpty));
            Assert.True(worker.PoolAvailable > 0, "the pool kept no reserve");
        }
        finally
        {
            NamespaceThread.Run(lab.Dut, () =>
            {
                host.Dispose();
                return 0;
            });
        }
    }

    [Fact]
    public void Start_GenericXdpWithGroOn_TurnsGroOffWhileRunningAndRestoresIt()
    {
        using var lab = new RunLab();
        lab.Dut.Check("ethtool", "-K", lab.DutAIf, "gro", "on");
        var report = new List<string>();
        ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan(), s => s with { AttachMode = XdpStack.Appliance.Cli.AttachMode.Generic }, report);
        try
        {
            Assert.Contains(report, line => line.Contains(lab.DutAIf, StringComparison.Ordinal) && line.Contains("GRO turned off", StringComparison.Ordinal));
            Assert.Contains(report, line => line.Contains(lab.DutBIf, StringComparison.Ordinal) && line.Contains("GRO off, LRO off", StringComparison.Ordinal));
            Assert.Contains("generic-receive-offload: off", lab.Dut.Check("ethtool", "-k", lab.DutAIf));
            // Generic XDP forwards too.
            AssertPing(lab.HostA, RunLab.HostBIpv4, ttl: 63);
            AssertPing(lab.HostB, RunLab.HostAIpv6, ttl: 63);
        }
        finally
        {
            // Device settings are made by name, in the calling thread's namespace, as xdpstack itself runs there.
            NamespaceThread.Run(lab.Dut, () =>
            {
                host.Dispose();
                return 0;
            });
        }
        Assert.Contains("generic-receive-offload: on", lab.Dut.Check("ethtool", "-k", lab.DutAIf));
    }

    [Fact]
    public void Reload_TwentyRouteChanges_UnaffectedFlowKeepsEveryDatagramInOrder()
    {
        using var lab = new RunLab();
        StackPlan plain = RunLab.RouterPlan();
        StackPlan more = plain with
        {
            Ipv4Routes = [.. plain.Ipv4Routes, new Ipv4Route(Ipv4Prefix.Containing(Ipv4Address.Parse("198.19.0.0"), 16), Ipv4Address.Parse(RunLab.HostBIpv4), 2)],
        };
        using ApplianceHost host = lab.StartInProcess(plain);
        AssertPing(lab.HostA, RunLab.HostBIpv4, ttl: 63);
        UdpTransfer.Result during = default;
        Exception? flowError = null;
        var flow = new Thread(() =>
        {
            // Kept in the thread: an exception escaping it would take the whole test host down.
            try
            {
                during = UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 6_000, burst: 16);
            }
            catch (Exception e)
            {
                flowError = e;
            }
        })
        { IsBackground = true };
        flow.Start();
        var changes = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            Thread.Sleep(50);
            changes.AddRange(host.Reload(i % 2 == 0 ? more : plain));
        }
        flow.Join();
        Assert.Null(flowError);
        Assert.Equal(20, changes.Count);
        Assert.True(during.Received == 6_000 && during.Intact == 6_000 && during.Duplicates == 0 && during.InOrder, $"{during}\n{Counters(host)}");
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(4, 1)]
    public void Router_FlowsSpreadOverQueues_NoneLostDuplicatedOrReordered(int queuesA, int queuesB)
    {
        using var lab = new RunLab(queuesA: queuesA, queuesB: queuesB);
        using ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan());
        Assert.Equal(Math.Max(queuesA, queuesB), host.Plane.Workers.Count);
        AssertPing(lab.HostA, RunLab.HostBIpv4, ttl: 63);
        AssertPing(lab.HostA, RunLab.HostBIpv6, ttl: 63);
        foreach ((NetNamespace from, string src, NetNamespace to, string dst) in (ValueTuple<NetNamespace, string, NetNamespace, string>[])
        [
            (lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4),
            (lab.HostB, RunLab.HostBIpv4, lab.HostA, RunLab.HostAIpv4),
            (lab.HostA, RunLab.HostAIpv6, lab.HostB, RunLab.HostBIpv6),
        ])
        {
            UdpTransfer.FlowsResult r = UdpTransfer.RunFlows(from, src, to, dst, flows: 64, perFlow: 100);
            Assert.True(r.Received == r.Sent && r.Lost == 0 && r.Duplicates == 0 && r.FlowsOutOfOrder == 0, $"{src} -> {dst}: {r}\n{Counters(host)}");
        }
        // The flows from A really came in over every queue, each served by its own worker.
        foreach (RunWorker worker in host.Plane.Workers)
            Assert.True(worker.Ports[0].RxPackets > 100, $"worker {worker.Index} took little from A:\n{Counters(host)}");
        if (queuesB < queuesA)
        {
            // Workers without a socket on B handed their frames for B to the worker that has one, as copies.
            ulong handedOff = (ulong)host.Plane.Workers.Skip(queuesB).Sum(w => (long)w.Counters.HandoffsOut);
            ulong taken = (ulong)host.Plane.Workers.Take(queuesB).Sum(w => (long)w.Counters.HandoffsIn);
            Assert.True(handedOff > 1000 && taken == handedOff, $"handed off {handedOff}, taken {taken}\n{Counters(host)}");
        }
        host.Plane.Stop();
        Thread.Sleep(100);
        foreach (RunWorker worker in host.Plane.Workers)
        {
            worker.ReapAfterStop();
            Assert.True(worker.Account().Balanced, $"worker {worker.Index}: {worker.Account()}");
        }
    }

    private static long TxPackets(NetNamespace ns, string dev) =>
        long.Parse(ns.Check("cat", $"/sys/class/net/{dev}/statistics/tx_packets").Trim(), System.Globalization.CultureInfo.InvariantCulture);

    internal static void WaitIdle(RunWorker worker)
    {
        // Idle means: it went to sleep in poll() at least twice with nothing to do in between.
        ulong polls = worker.Counters.IdlePolls;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (worker.Counters.IdlePolls < polls + 2 && clock.Elapsed < TimeSpan.FromSeconds(20))
            Thread.Sleep(20);
        Assert.True(worker.Counters.IdlePolls >= polls + 2, "the worker never went idle");
    }

    private static void AssertPing(NetNamespace from, string to, int ttl)
    {
        CommandResult ping = from.Run(TimeSpan.FromSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", to);
        Assert.True(ping.ExitCode == 0 && ping.StandardOutput.Contains("3 received", StringComparison.Ordinal), $"ping {to}: {ping.StandardOutput}{ping.StandardError}");
        string ttlText = to.Contains(':', StringComparison.Ordinal) ? $"ttl={ttl}" : $"ttl={ttl}";
        Assert.Contains(ttlText, ping.StandardOutput);
    }

    internal static string Counters(ApplianceHost host)
    {
        var lines = new List<string>();
        foreach (RunWorker w in host.Plane.Workers)
        {
            RunWorkerCounters c = w.Counters;
            lines.Add($"worker {w.Index}: batches {c.Batches} fast4 {c.FastForwardedIpv4} fast6 {c.FastForwardedIpv6} slow {c.SlowPath} replies {c.InPlaceReplies} built {c.StackBuilt} handoff out/in {c.HandoffsOut}/{c.HandoffsIn} jumbo in/out {c.JumboReceived}/{c.JumboSent} drops: handoff {c.Dropped(WorkerDrop.HandoffFull)} pool {c.Dropped(WorkerDrop.PoolEmpty)} no-link {c.Dropped(WorkerDrop.NoEgressLink)} oversize {c.Dropped(WorkerDrop.Oversize)}");
            foreach (RunPort p in w.Ports)
                lines.Add($"  {p.Link.Name} q{p.Socket.QueueId}: rx {p.RxPackets} ({p.RxDescriptors} descriptors) tx {p.TxPackets} ({p.TxDescriptors}) fill {p.FillSubmitted} completed {p.Completed} txfull {p.TxRingFullDrops} kernel {p.Socket.GetStatistics()}");
        }
        return string.Join('\n', lines);
    }
}
