using XdpStack.Appliance.Capture;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Run;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Tests.Run;
using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Tests.Capture;

/// <summary>A capture nobody drains, in the appliance in process: the worker fills its ring, counts the rest as drops, and forwards on.</summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed class CaptureSessionTests
{
    [Fact]
    public void Capture_NeverDrained_FillsTheRingCountsTheRestAsDropsAndNeverHoldsUpTraffic()
    {
        using var lab = new RunLab();
        // Static neighbours: no NUD timer runs control work on the worker while its allocations are compared.
        using ApplianceHost host = lab.StartInProcess(RunLab.RouterPlan(lab.StaticHosts()));
        RunWorker worker = host.Plane.Workers[0];
        // Host A knows the router statically too: no ARP of its own lands on the worker while it is measured.
        lab.HostA.Ip("neigh", "replace", RunLab.RouterAIpv4, "lladdr", RunLab.MacOf(lab.Dut, lab.DutAIf), "dev", lab.HostAIf, "nud", "permanent");
        // Only the flow's datagrams: the hosts' own chatter (NDP, MLD) would make the counts inexact.
        Assert.True(CaptureFilter.TryParse("udp and port 40000", out CaptureFilter flowOnly, out _));

        // Warm-up: the JIT allocates on the thread that first runs a method, capture code included.
        using (CaptureSession warm = CaptureSession.Start(host.Plane, lab.DutAIf, null, flowOnly, received: true, transmitted: true, 2048))
            Assert.Equal(20, UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 20, burst: 4).Received);
        DataPlaneTests.WaitIdle(worker);

        long allocated = worker.Counters.AllocatedBytes;
        CaptureSession session = CaptureSession.Start(host.Plane, lab.DutAIf, null, flowOnly, received: true, transmitted: false, 2048);
        UdpTransfer.Result flow = UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 3 * CaptureSession.RingCapacity, burst: 16);
        DataPlaneTests.WaitIdle(worker);

        // Every datagram went through while the ring was full: the worker never waited for the capture.
        Assert.True(flow.Received == 3 * CaptureSession.RingCapacity && flow.Intact == flow.Received, flow.ToString());
        Assert.Equal(CaptureSession.RingCapacity, session.Captured);
        Assert.Equal(3 * CaptureSession.RingCapacity, session.Captured + session.Dropped);
        // Copying into the ring and counting drops allocated nothing on the worker.
        Assert.Equal(allocated, worker.Counters.AllocatedBytes);

        // What the ring held comes out in order, one message per frame; after Dispose the worker copies no more.
        var stream = new MemoryStream();
        Assert.Equal(CaptureSession.RingCapacity, session.DrainTo(stream, long.MaxValue));
        session.Dispose();
        Assert.Equal(5, UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 5, burst: 1).Received);
        DataPlaneTests.WaitIdle(worker);
        Assert.Equal(0, session.DrainTo(stream, long.MaxValue));
        Assert.Equal(CaptureSession.RingCapacity, session.Captured);

        stream.Position = 0;
        byte[] body = new byte[CaptureMessage.MaxBody];
        long last = 0;
        int frames = 0;
        while (CaptureMessage.TryRead(stream, body, out byte kind, out CaptureDirection direction, out _, out int length, out int original, out long micros))
        {
            Assert.Equal((CaptureMessage.FrameKind, CaptureDirection.Received), (kind, direction));
            Assert.True(micros >= last && length == original && length == 14 + 20 + 8 + 256, $"frame {frames}: {length}/{original} bytes at {micros}");
            last = micros;
            frames++;
        }
        Assert.Equal(CaptureSession.RingCapacity, frames);
    }
}
