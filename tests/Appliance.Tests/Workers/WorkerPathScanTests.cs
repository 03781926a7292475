using System.Reflection;
using XdpStack.Appliance.Links;
using XdpStack.Appliance.Workers;
using XdpStack.Stack;
using XdpStack.Stack.Tests.WorkerPath;
using XdpStack.Xdp;
using Xunit.Abstractions;

namespace XdpStack.Appliance.Tests.Workers;

/// <summary>
/// The appliance's worker threads, scanned as the stack's worker path is (tests/Stack.Tests/WorkerPath): everything
/// a worker's loop can reach in the appliance, the AF_XDP library and the stack uses no <c>Interlocked</c>, no
/// <c>Monitor</c> and no lock, beyond a short list of excused methods, each with its reason.
/// </summary>
public sealed class WorkerPathScanTests(ITestOutputHelper output)
{
    private const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;

    private static readonly Assembly[] s_followed = [typeof(RunWorker).Assembly, typeof(Umem).Assembly, typeof(NetworkStack).Assembly];

    /// <summary>The appliance's own excuses, added to the stack's.</summary>
    private static readonly Dictionary<string, string> s_applianceStops = new()
    {
        ["RunWorker.EnqueueFromControl"] = "control threads only: XdpNicLink.WriteFrame takes this branch for worker index -1 (NUD timers, applications), never for a worker's own index",
        ["XdpNicLink.WriteTaggedFromControl"] = "control threads only: a VLAN sub-interface's XdpNicLink.WriteFrame takes this branch for worker index -1, never for a worker's own index (which has its own tagging buffer)",
        ["ChannelEndpoint.*"] = "the stack's in-memory test link, never a NIC of the appliance (those are XdpNicLink, followed)",
        ["PcapWriter.*"] = "the stack's recording link wrapper for tests (its file writes take a lock); the appliance never wraps its NICs in it",
        ["ReaderEpoch.GoOnline"] = "once per wake-up from an idle sleep (up to 20 ms with nothing to do), never per batch or packet: the full fence lets the LPM's writer see the worker online before the worker reads a table reference again",
    };

    [Fact]
    public void RunAndReflectWorkerLoops_CallGraph_NoInterlockedMonitorOrLock()
    {
        var stops = new Dictionary<string, string>(s_applianceStops);
        foreach ((string method, string why) in WorkerPathExclusions.Methods)
        {
            // The stack's scan stops at the link endpoint (the device); here the device is ours, and is followed.
            if (method != "ILinkEndpoint.*")
                stops[method] = why;
        }
        MethodBase[] entries =
        [
            typeof(RunWorker).GetMethod("Loop", Private)!,
            typeof(ReflectWorker).GetMethod("Loop", Private)!,
        ];
        Assert.All(entries, Assert.NotNull);
        IlCallGraph walk = new IlCallGraph(s_followed, stops).Walk(entries);

        output.WriteLine($"{walk.Visited.Count} methods visited");
        foreach ((string stop, string chain) in walk.StopsReached.OrderBy(s => s.Key, StringComparer.Ordinal))
            output.WriteLine($"stopped at {stop}: {chain}");
        output.WriteLine("library calls: " + string.Join(", ", walk.ExternalCalls));
        Assert.True(walk.Violations.Count == 0, "forbidden calls on the worker path:\n" + string.Join("\n", walk.Violations));

        // Not vacuous: the walk goes through the rings, both fast paths, the stack, the links and the hand-offs.
        HashSet<string> visited = [.. walk.Visited.Select(IlCallGraph.Name)];
        string[] expected =
        [
            "RunWorker.Receive", "RunWorker.Gather", "RunWorker.QueueChain", "RunWorker.Flush", "RunWorker.DrainInboxes",
            "RunWorker.SendCopy", "RunWorker.HandOff", "FrameHandoff.TryEnqueue", "XdpNicLink.WriteFrame",
            "RxRing.Peek", "TxRing.Reserve", "FillRing.Reserve", "CompletionRing.Peek", "XskWaitSet.Sleep",
            "Ipv4FastForwarder.Forward", "Ipv6FastForwarder.Forward", "Nic.DeliverNetworkPackets", "Ipv4Forwarder.Forward",
            "ReflectWorker.Loop", "FrameReflector.Reflect",
            "CaptureLane.Received", "CaptureLane.Transmitted", "CaptureRing.TryWrite", "CaptureFilter.Matches",
            "NetworkStack.PollTimers", "TcpWorker.PollTimers", "TcpConnection.OnTimers",
            "RunWorker.Demux", "VlanDemux.Classify", "RunWorker.ProcessTagged", "RunWorker.TryTag", "XdpNicLink.WriteTagged",
        ];
        Assert.All(expected, name => Assert.Contains(name, visited));
        Assert.True(walk.Visited.Count > 400, $"only {walk.Visited.Count} methods visited");
        // Every excuse is still needed.
        Assert.Equal(stops.Keys.Order(StringComparer.Ordinal), walk.StopsReached.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Scan_ControlHandOffLock_IsFoundWhenNotExcused()
    {
        // The walk does see the control hand-off's lock: without its excuse, it is reported with the chain to it.
        IlCallGraph walk = new IlCallGraph(s_followed, new Dictionary<string, string>()).Walk(typeof(XdpNicLink).GetMethod(nameof(XdpNicLink.WriteFrame))!);
        Assert.Contains(walk.Violations, v => v.ToString().Contains("RunWorker.EnqueueFromControl", StringComparison.Ordinal));
    }
}
