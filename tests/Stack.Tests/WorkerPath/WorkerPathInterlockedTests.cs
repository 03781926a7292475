using System.Reflection;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Transport.Raw;
using XdpStack.Stack.Transport.Udp;
using Xunit.Abstractions;

namespace XdpStack.Stack.Tests.WorkerPath;

public class WorkerPathInterlockedTests(ITestOutputHelper output)
{
    private const BindingFlags All = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;

    // Where workers enter the stack: a NIC's receive batch (everything the full stack does with a frame: ARP, IPv4,
    // IPv6, ICMP, NDP, UDP, raw, both forwarders), the idle fragment expiry, the transport timers (TCP), the two fast paths, and the
    // application's side of the lock-free rings it drains.
    private static readonly MethodBase[] s_entries =
    [
        typeof(Nic).GetMethod(nameof(Nic.DeliverNetworkPackets))!,
        typeof(Nic).GetMethod(nameof(Nic.ExpireIpv6Fragments))!,
        typeof(NetworkStack).GetMethod(nameof(NetworkStack.PollTimers))!,
        typeof(XdpStack.Stack.Transport.Tcp.TcpProtocol).GetMethod(nameof(XdpStack.Stack.Transport.Tcp.TcpProtocol.PollTimers))!,
        typeof(Ipv4FastForwarder).GetMethod(nameof(Ipv4FastForwarder.Forward))!,
        typeof(Ipv6FastForwarder).GetMethod(nameof(Ipv6FastForwarder.Forward))!,
        typeof(UdpEndpoint).GetMethod(nameof(UdpEndpoint.TryReceive))!,
        typeof(UdpEndpoint).GetMethod(nameof(UdpEndpoint.ReceiveBatch))!,
        typeof(UdpEndpoint).GetMethod(nameof(UdpEndpoint.TryTakeError))!,
        typeof(RawEndpoint).GetMethod(nameof(RawEndpoint.TryReceive))!,
    ];

    [Fact]
    public void WorkerEntryPoints_CallGraph_NoInterlockedMonitorOrLock()
    {
        IlCallGraph walk = new IlCallGraph(typeof(NetworkStack).Assembly, WorkerPathExclusions.Methods).Walk(s_entries);

        output.WriteLine($"{walk.Visited.Count} methods visited (generic instantiations apart) from {s_entries.Length} entry points");
        foreach ((string stop, string chain) in walk.StopsReached.OrderBy(s => s.Key, StringComparer.Ordinal))
            output.WriteLine($"stopped at {stop}: {chain}");
        output.WriteLine("library calls: " + string.Join(", ", walk.ExternalCalls));
        Assert.True(walk.Violations.Count == 0, "forbidden calls on the worker path:\n" + string.Join("\n", walk.Violations));

        // Not vacuous: the walk reaches the per-packet code of every path the README claims.
        HashSet<string> visited = [.. walk.Visited.Select(IlCallGraph.Name)];
        string[] expected =
        [
            "ArpEndpoint.HandlePacket", "NeighborCache.HandleProbe", "NeighborCache.TryResolve",
            "Ipv4Endpoint.HandleIcmp", "Ipv4Endpoint.SendError", "Ipv4Reassembler.Add",
            "Ipv6Endpoint.HandleEcho", "Ipv6Endpoint.HandleSolicitation", "Ipv6Endpoint.SendError", "Ipv6Reassembler.Add",
            "UdpProtocol.HandlePacket", "UdpReceiveRing.TryEnqueue", "UdpReceiveRing.TryDequeue", "TransportDemuxer.Find",
            "RawTable.Deliver", "Ipv4Forwarder.Forward", "Ipv6Forwarder.Forward", "ForwardingEgress.TryAddress",
            "Ipv4FastForwarder.ForwardChunk", "Ipv6FastForwarder.ForwardChunk", "Ipv6FastForwarder.EightLanes.Lookup",
            "IcmpRateLimiter.HasToken", "IcmpPeerLimiter.TryTake", "SystemClock.get_Now", "Ipv4Address.Equals",
            "TcpProtocol.HandlePacket", "TcpConnection.Receive", "TcpConnection.OnTimers", "TcpWorker.SendSegment",
            "HttpResponder.OnReceive", "TcpEchoResponder.OnReceive",
        ];
        Assert.All(expected, name => Assert.Contains(name, visited));
        Assert.True(walk.Visited.Count > 200, $"only {walk.Visited.Count} methods visited");
        // Every exclusion is still reached, so none outlives the code it excused.
        Assert.Equal(WorkerPathExclusions.Methods.Keys.Order(StringComparer.Ordinal), walk.StopsReached.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RouteWritePacket_FromWorkerEntryPoints_NotReached()
    {
        // Route.WritePacket numbers IPv4 datagrams with Interlocked.Increment (a static counter shared by all
        // senders); it is for packets applications originate, and no worker path reaches it.
        IlCallGraph walk = new IlCallGraph(typeof(NetworkStack).Assembly, WorkerPathExclusions.Methods).Walk(s_entries);
        Assert.DoesNotContain(walk.Visited, m => IlCallGraph.Name(m) is "Route.WritePacket" or "UdpEndpoint.SendTo" or "NetworkStack.FindRoute");
    }

    [Fact]
    public void ApplicationSend_CallGraph_ReportsItsInterlocked()
    {
        // The scan finds real uses in the stack too: an application's send takes address references and an IPv4
        // identification with Interlocked.
        IlCallGraph walk = new IlCallGraph(typeof(NetworkStack).Assembly, WorkerPathExclusions.Methods)
            .Walk(typeof(UdpEndpoint).GetMethod(nameof(UdpEndpoint.SendTo))!);
        Assert.Contains(walk.Violations, v => v.Call.StartsWith("Interlocked.Increment", StringComparison.Ordinal) && v.Chain[^1] == "Route.WritePacket");
        Assert.Contains(walk.Violations, v => v.Call.StartsWith("Interlocked.Add", StringComparison.Ordinal) && v.Chain[^1] == "AddressEndpoint.TryIncRef");
    }

    [Fact]
    public void Walk_InterlockedTwoCallsDeep_ReportedWithItsChain()
    {
        IlCallGraph walk = TestWalk(nameof(OffendingPath.Counts));
        IlCallGraph.Violation violation = Assert.Single(walk.Violations);
        Assert.Equal(["OffendingPath.Counts", "OffendingPath.Increment"], violation.Chain);
        Assert.StartsWith("Interlocked.Increment", violation.Call, StringComparison.Ordinal);
    }

    [Fact]
    public void Walk_LockStatementBehindAnInterface_Reported()
    {
        IlCallGraph walk = TestWalk(nameof(OffendingPath.Dispatches));
        IlCallGraph.Violation violation = Assert.Single(walk.Violations);
        Assert.Equal(["OffendingPath.Dispatches", "LockingSink.Put"], violation.Chain);
        Assert.StartsWith("Lock.EnterScope", violation.Call, StringComparison.Ordinal);
    }

    [Fact]
    public void Walk_MonitorBehindADelegate_Reported()
    {
        IlCallGraph walk = TestWalk(nameof(OffendingPath.Invokes));
        Assert.Equal(2, walk.Violations.Count);
        Assert.All(walk.Violations, v => Assert.Equal("OffendingPath.Invokes", v.Chain[0]));
        Assert.Contains(walk.Violations, v => v.Call.StartsWith("Monitor.Enter", StringComparison.Ordinal));
        Assert.Contains(walk.Violations, v => v.Call.StartsWith("Monitor.Exit", StringComparison.Ordinal));
    }

    [Fact]
    public void Walk_StoppedMethod_NotFollowedButListed()
    {
        IlCallGraph walk = TestWalk(nameof(OffendingPath.CallsStopped), new Dictionary<string, string> { ["OffendingPath.Stopped"] = "test" });
        Assert.Empty(walk.Violations);
        Assert.Equal("OffendingPath.CallsStopped -> OffendingPath.Stopped", Assert.Single(walk.StopsReached).Value);
        // Without the stop the same call is reported.
        Assert.Single(TestWalk(nameof(OffendingPath.CallsStopped)).Violations);
    }

    [Fact]
    public void Walk_ConcurrentQueueInTheLibrary_Reported()
    {
        // Library bodies are not read; members known to lock or use Interlocked inside are named instead.
        IlCallGraph walk = TestWalk(nameof(OffendingPath.Queues));
        Assert.StartsWith("ConcurrentQueue.Enqueue", Assert.Single(walk.Violations).Call, StringComparison.Ordinal);
    }

    private static IlCallGraph TestWalk(string entry, Dictionary<string, string>? stops = null) =>
        new IlCallGraph(typeof(OffendingPath).Assembly, stops ?? []).Walk(typeof(OffendingPath).GetMethod(entry, All)!);
}

// Deliberate offences for the negative tests above; nothing calls them.
internal delegate void OffendingCallback();

internal interface IOffendingSink
{
    void Put();
}

internal sealed class LockingSink : IOffendingSink
{
    private readonly Lock _gate = new();
    private int _count;

    public void Put()
    {
        lock (_gate)
            _count++;
    }
}

internal static class OffendingPath
{
    private static readonly object s_monitor = new();
    private static readonly System.Collections.Concurrent.ConcurrentQueue<int> s_queue = new();
    private static long s_count;

    public static long Counts() => Increment() + 1;

    public static void Dispatches(IOffendingSink sink) => sink.Put();

    public static void Invokes()
    {
        OffendingCallback callback = () =>
        {
            Monitor.Enter(s_monitor);
            Monitor.Exit(s_monitor);
        };
        callback();
    }

    public static void CallsStopped() => Stopped();

    public static void Queues() => s_queue.Enqueue(1);

    private static long Increment() => Interlocked.Increment(ref s_count);

    private static void Stopped() => Interlocked.Decrement(ref s_count);
}
