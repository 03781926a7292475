using System.Reflection;
using System.Reflection.Emit;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.FastPath;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;
using Xunit.Abstractions;
using static XdpStack.Stack.Tests.WorkerPath.WorkerPathFixture;

namespace XdpStack.Stack.Tests.WorkerPath;

/// <summary>
/// Proof that the worker paths take none of the stack's locks: every lock the stack's objects own (found by walking
/// the object graph, not listed by hand) is held on another thread while each path runs to completion.
/// </summary>
/// <remarks>
/// Not driven here, because they take a lock by design (see <see cref="WorkerPathExclusions"/>): a next hop not yet
/// resolved (the frame is queued), the first use of a Stale neighbour, learning a new or changed neighbour from an
/// ARP or NDP message, and waking an application parked in <see cref="UdpEndpoint.WaitAsync"/>. The link endpoint's
/// own lock (the test's <see cref="ChannelEndpoint"/> ring, standing in for the device) is not the stack's and is
/// not held.
/// </remarks>
public class WorkerPathLockTests(ITestOutputHelper output)
{
    // Frames per path: one batch each.
    private const int Count = 64;

    // ICMP errors per kind: two kinds per family stay within one worker's bucket (burst 50, and the clock stands still).
    private const int Errors = 20;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private static readonly Type[] s_lockKinds =
    [
        typeof(Lock), typeof(SemaphoreSlim), typeof(SpinLock), typeof(ReaderWriterLockSlim), typeof(ReaderWriterLock),
        typeof(ManualResetEventSlim), typeof(CountdownEvent), typeof(Barrier), typeof(WaitHandle),
    ];

    [Fact]
    public void FindLocks_FromTheStack_ReachesEveryLockFieldOfTheAssembly()
    {
        var f = new WorkerPathFixture();
        StackLocks locks = StackLocks.Find(f.Stack);
        foreach (IGrouping<string, StackLocks.FoundLock> group in locks.Held.GroupBy(l => l.Field).OrderBy(g => g.Key, StringComparer.Ordinal))
            output.WriteLine($"held {group.Count(),3} x {group.Key}");
        foreach (StackLocks.FoundLock excluded in locks.Excluded)
            output.WriteLine($"not held: {excluded.Path}");

        // Every field of a lock kind in the stack's assembly is one the walk reads, and of a kind it can hold. A lock
        // added where the walk does not reach from this stack, or of another kind, fails here until the walk is taught.
        var checkedFields = new List<string>();
        foreach (Type type in typeof(NetworkStack).Assembly.GetTypes())
        {
            foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                Type kind = field.FieldType.IsArray ? field.FieldType.GetElementType()! : field.FieldType;
                if (!s_lockKinds.Any(k => k.IsAssignableFrom(kind)))
                    continue;
                string name = $"{IlCallGraph.TypeName(type)}.{field.Name}";
                if (typeof(ILinkEndpoint).IsAssignableFrom(type))
                {
                    // A link endpoint is the device (or a test double, or a capture tap around one), not the stack.
                    output.WriteLine($"not the stack's: {name}");
                    continue;
                }
                if (type == typeof(XdpStack.Stack.Routing.ReaderEpochs))
                {
                    // The in-place LPM's reader registry: readers register and the writer scans them under it, never
                    // a worker per packet. No NetworkStack builds one yet (only the LPM's tests and benchmarks do);
                    // once the stack uses the in-place table, WorkerPathFixture must build it and this goes.
                    output.WriteLine($"not the stack's yet: {name}");
                    continue;
                }
                checkedFields.Add(name);
                Assert.False(field.IsStatic, $"{name} is a static lock: the walk follows the stack's objects, not statics");
                Assert.True(kind == typeof(Lock) || kind == typeof(SemaphoreSlim), $"{name} is a {kind.Name}, which StackLocks cannot hold");
                Assert.True(locks.Reached(field), $"{name} was not reached from the NetworkStack: build the object in WorkerPathFixture, or say why it is not the stack's");
            }
        }
        output.WriteLine("lock fields: " + string.Join(", ", checkedFields));
        Assert.Contains("NeighborCache._gate", checkedFields);
        Assert.Contains("SnapshotFollower._scheduleGate", checkedFields);
        // The only locks not held are the links' own (the ChannelEndpoint rings).
        Assert.All(locks.Excluded, l => Assert.Equal("ChannelEndpoint._outboundLock", l.Field));
        Assert.Equal(2, locks.Excluded.Count);
    }

    [Fact]
    public void StackAssembly_EveryMethod_NoLockStatementOnAPlainObject()
    {
        // The walk recognises locks by their type; a lock statement on any other object (Monitor.Enter) would be a
        // lock it cannot see, so the assembly must have none.
        var offenders = new List<string>();
        foreach (Type type in typeof(NetworkStack).Assembly.GetTypes())
        {
            const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (MethodBase method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
                if (il is null)
                    continue;
                Type[]? typeArguments = type.IsGenericType ? type.GetGenericArguments() : null;
                Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
                foreach ((OpCode op, int token) in IlCallGraph.Instructions(il))
                {
                    if ((op == OpCodes.Call || op == OpCodes.Callvirt)
                        && method.Module.ResolveMethod(token, typeArguments, methodArguments)!.DeclaringType == typeof(Monitor))
                        offenders.Add(IlCallGraph.Name(method));
                }
            }
        }
        Assert.Empty(offenders);
    }

    [Fact]
    public void WorkerPaths_WhileEveryStackLockIsHeld_CompleteWithExpectedCounts()
    {
        var f = new WorkerPathFixture();
        byte[] echo4 = Packets.EchoRequest(HostA, Ip1);
        byte[] echo6 = Packets6.EchoRequest(HostA6, Ip6);
        byte[] arp = Packets.ArpRequest(HostA, Packets.HostMac, Ip1);
        byte[] solicitation = Packets6.Solicitation(HostA6, Ip6, Packets.HostMac);
        byte[] udp4 = Udp4From(Ip1, BoundPort);
        byte[] udp6 = Udp6From(Ip6, BoundPort);
        byte[] forward4 = Udp4From(HostB, BoundPort);
        byte[] forward6 = Udp6From(HostB6, BoundPort);
        byte[] ttlExceeded = Udp4From(HostB, BoundPort, ttl: 1);
        byte[] hopLimitExceeded = Udp6From(HostB6, BoundPort, hopLimit: 1);
        byte[] portUnreachable4 = Udp4From(Ip1, UnboundPort);
        byte[] portUnreachable6 = Udp6From(Ip6, UnboundPort);
        FastBatch fast4 = new(forward4);
        FastBatch fast6 = new(forward6);
        int received4 = 0, received6 = 0, rawReceived = 0;

        StatCounter[] nic1Counters =
        [
            StatCounter.IcmpEchoRepliesSent, StatCounter.Icmpv6EchoRepliesSent, StatCounter.ArpOutgoingRepliesSent,
            StatCounter.NdpAdvertisementsSent, StatCounter.UdpDatagramsReceived, StatCounter.Ipv4PacketsForwarded,
            StatCounter.IcmpTimeExceededSent, StatCounter.IcmpDestinationUnreachableSent, StatCounter.Icmpv6ErrorsSent,
        ];
        Dictionary<StatCounter, long> before = nic1Counters.ToDictionary(c => c, c => f[Nic1, c]);
        long forwarded6Before = f[Nic2, StatCounter.Ipv6PacketsForwarded];

        StackLocks locks = StackLocks.Find(f.Stack);
        var runs = new PathRuns();
        using (locks.HoldAll())
        {
            runs.Run("IPv4 echo", () => f.Link1.InjectInboundRepeated(echo4, Count));
            runs.Run("IPv6 echo", () => f.Link1.InjectInboundRepeated(echo6, Count));
            runs.Run("ARP reply to a known neighbour", () => f.Link1.InjectInboundRepeated(arp, Count));
            runs.Run("NDP advertisement to a known neighbour", () => f.Link1.InjectInboundRepeated(solicitation, Count));
            runs.Run("UDP delivery, application draining", () =>
            {
                var application = new Thread(() =>
                {
                    byte[] buffer = new byte[2048];
                    var deadline = DateTime.UtcNow + s_timeout;
                    while ((received4 < Count || received6 < Count) && DateTime.UtcNow < deadline)
                    {
                        if (f.Udp4.TryReceive(buffer, out _, out _))
                            received4++;
                        if (f.Udp6.TryReceive(buffer, out _, out _))
                            received6++;
                    }
                });
                application.Start();
                f.Link1.InjectInboundRepeated(udp4, Count);
                f.Link1.InjectInboundRepeated(udp6, Count);
                application.Join();
            });
            runs.Run("IPv4 forwarding, full stack", () => f.Link1.InjectInboundRepeated(forward4, Count));
            runs.Run("IPv6 forwarding, full stack", () => f.Link1.InjectInboundRepeated(forward6, Count));
            runs.Run("IPv4 forwarding, fast path", () => fast4.Run(f.Fast4.Forward));
            runs.Run("IPv6 forwarding, fast path", () => fast6.Run(f.Fast6.Forward));
            runs.Run("ICMP Time Exceeded", () => f.Link1.InjectInboundRepeated(ttlExceeded, Errors));
            runs.Run("ICMPv6 Time Exceeded", () => f.Link1.InjectInboundRepeated(hopLimitExceeded, Errors));
            runs.Run("ICMP Port Unreachable", () => f.Link1.InjectInboundRepeated(portUnreachable4, Errors));
            runs.Run("ICMPv6 Port Unreachable", () => f.Link1.InjectInboundRepeated(portUnreachable6, Errors));
            runs.Run("raw endpoint drained", () =>
            {
                byte[] buffer = new byte[2048];
                while (f.Raw.TryReceive(buffer, out _, out _))
                    rawReceived++;
            });
        }
        runs.ThrowIfBlockedOrFailed();
        output.WriteLine($"{locks.Held.Count} locks held ({locks.Held.Count(l => l.IsMonitor)} of them library monitors); {runs.Completed} paths completed");

        Assert.Equal(Count, f[Nic1, StatCounter.IcmpEchoRepliesSent] - before[StatCounter.IcmpEchoRepliesSent]);
        Assert.Equal(Count, f[Nic1, StatCounter.Icmpv6EchoRepliesSent] - before[StatCounter.Icmpv6EchoRepliesSent]);
        Assert.Equal(Count, f[Nic1, StatCounter.ArpOutgoingRepliesSent] - before[StatCounter.ArpOutgoingRepliesSent]);
        Assert.Equal(Count, f[Nic1, StatCounter.NdpAdvertisementsSent] - before[StatCounter.NdpAdvertisementsSent]);
        Assert.Equal(2 * Count, f[Nic1, StatCounter.UdpDatagramsReceived] - before[StatCounter.UdpDatagramsReceived]);
        Assert.Equal((Count, Count), (received4, received6));
        Assert.Equal(Count, f[Nic1, StatCounter.Ipv4PacketsForwarded] - before[StatCounter.Ipv4PacketsForwarded]);
        Assert.Equal(Count, f[Nic2, StatCounter.Ipv6PacketsForwarded] - forwarded6Before);
        Assert.Equal((Count, Nic2.Value), (fast4.Forwarded, fast4.SingleEgress));
        Assert.Equal((Count, Nic2.Value), (fast6.Forwarded, fast6.SingleEgress));
        Assert.Equal(Errors, f[Nic1, StatCounter.IcmpTimeExceededSent] - before[StatCounter.IcmpTimeExceededSent]);
        Assert.Equal(Errors, f[Nic1, StatCounter.IcmpDestinationUnreachableSent] - before[StatCounter.IcmpDestinationUnreachableSent]);
        Assert.Equal(2 * Errors, f[Nic1, StatCounter.Icmpv6ErrorsSent] - before[StatCounter.Icmpv6ErrorsSent]);
        // The raw UDP endpoint saw every UDP packet addressed to us: the delivered ones and those answered unreachable.
        Assert.Equal(2 * (Count + Errors), rawReceived);
        // What left: replies and errors out of nic 1, the full stack's forwarded frames out of nic 2.
        Assert.Equal((4 * Count) + (4 * Errors), f.Link1.OutboundCount);
        Assert.Equal(2 * Count, f.Link2.OutboundCount);
    }

    [Theory]
    [InlineData("an ARP request from a new neighbour")]
    [InlineData("a frame forwarded to an unresolved next hop")]
    public void ExcludedPath_WhileEveryStackLockIsHeld_WaitsUntilReleased(string path)
    {
        // The other side of the proof: a path that does take one of the stack's locks waits for the holder, so the
        // test above would catch a worker path that took one.
        var f = new WorkerPathFixture();
        byte[] frame = path.StartsWith("an ARP", StringComparison.Ordinal)
            ? Packets.ArpRequest(Ipv4Address.Parse("198.18.1.20"), MacAddress.Parse("02:00:00:00:01:14"), Ip1)
            : Udp4From(Ipv4Address.Parse("198.18.2.99"), BoundPort);
        long repliesBefore = f[Nic1, StatCounter.ArpOutgoingRepliesSent];
        long forwardedBefore = f[Nic1, StatCounter.Ipv4PacketsForwarded];
        var worker = new Thread(() => f.Link1.InjectInbound(frame)) { IsBackground = true };
        using (StackLocks.Find(f.Stack).HoldAll())
        {
            worker.Start();
            Assert.False(worker.Join(TimeSpan.FromMilliseconds(300)), $"{path} completed while the neighbour cache's lock was held");
        }
        Assert.True(worker.Join(s_timeout));
        Assert.Equal(1, (f[Nic1, StatCounter.ArpOutgoingRepliesSent] - repliesBefore) + (f[Nic1, StatCounter.Ipv4PacketsForwarded] - forwardedBefore));
    }

    // Runs each path on its own thread and stops at the first that does not finish in time (it is then waiting for a
    // held lock, and running more paths on the same link arena would only add noise).
    private sealed class PathRuns
    {
        private readonly List<Thread> _stuck = [];
        private string? _blocked;
        private Exception? _failure;

        public int Completed { get; private set; }

        public void Run(string name, Action path)
        {
            if (_blocked is not null || _failure is not null)
                return;
            Exception? failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    path();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }) { IsBackground = true, Name = name };
            thread.Start();
            if (!thread.Join(s_timeout))
            {
                _blocked = name;
                _stuck.Add(thread);
                return;
            }
            if (failure is not null)
                _failure = new InvalidOperationException($"{name} failed", failure);
            else
                Completed++;
        }

        // Called after the locks are released, so a blocked path can finish first.
        public void ThrowIfBlockedOrFailed()
        {
            foreach (Thread thread in _stuck)
                thread.Join(s_timeout);
            Assert.True(_blocked is null, $"\"{_blocked}\" did not complete while the stack's locks were held");
            if (_failure is not null)
                throw _failure;
        }
    }

    // Count copies of one frame laid out as a receive batch for a fast path, nic 1 ingress.
    private sealed class FastBatch
    {
        private readonly byte[] _memory;
        private readonly Frame[] _frames = new Frame[Count];
        private readonly ForwardVerdict[] _verdicts = new ForwardVerdict[Count];
        private readonly int[] _egress = new int[Count];

        public FastBatch(byte[] frame)
        {
            _memory = new byte[Count * 2048];
            for (int i = 0; i < Count; i++)
            {
                frame.CopyTo(_memory, i * 2048);
                _frames[i] = new Frame(i * 2048, frame.Length);
            }
        }

        public int Forwarded { get; private set; }

        // The egress every frame was given, or -1 when they differ or one was not forwarded.
        public int SingleEgress => _verdicts.All(v => v == ForwardVerdict.Forward) && _egress.All(e => e == _egress[0]) ? _egress[0] : -1;

        public void Run(FastForward forward) => Forwarded = forward(Nic1, _memory, _frames, _verdicts, _egress);
    }
}
