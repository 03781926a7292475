using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Stack.Tests.Transport;

public class TransportDemuxerShardTests
{
    private const int Workers = 4;
    private static readonly IpAddress Local = Ipv4Address.Parse("198.18.0.2");
    private static readonly IpAddress Remote = Ipv4Address.Parse("198.18.0.1");
    private static readonly NicId Nic = new(1);

    private static TransportEndpointId Bound(ushort port) => TransportEndpointId.Create(EtherType.Ipv4, Local, port, default, 0);

    private static TransportEndpointId Packet(ushort port, ushort remotePort = 4000) =>
        TransportEndpointId.Create(EtherType.Ipv4, Local, port, Remote, remotePort);

    [Fact]
    public void Constructor_ZeroWorkers_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransportDemuxer<object>(0));
    }

    [Fact]
    public void Register_FourWorkers_EveryWorkerSeesItOnceRegisterReturns()
    {
        var demux = new TransportDemuxer<object>(Workers);
        var endpoint = new object();
        Assert.Equal(StackError.None, demux.Register(Bound(53), NicId.Any, endpoint, reusePort: false));
        // Each worker looks on its own thread, as a real worker would.
        object?[] seen = RunOnWorkers(w => demux.Find(w, Packet(53), Nic));
        Assert.All(seen, s => Assert.Same(endpoint, s));
        Assert.All(RunOnWorkers(w => demux.FindExact(w, Bound(53))), s => Assert.Same(endpoint, s));

        Assert.True(demux.Unregister(Bound(53), NicId.Any, endpoint));
        Assert.All(RunOnWorkers(w => demux.Find(w, Packet(53), Nic)), Assert.Null);
    }

    [Fact]
    public void Shards_FourWorkers_NoTwoWorkersShareASnapshotObject()
    {
        var demux = new TransportDemuxer<object>(Workers);
        var every = new HashSet<object>(ReferenceEqualityComparer.Instance);
        void CheckDistinct()
        {
            for (int w = 0; w < Workers; w++)
            {
                // Distinct across workers now, and never one published before (no reuse between changes).
                Assert.True(every.Add(demux.ShardOf(w)), $"worker {w} reads a shard object seen before");
            }
        }
        CheckDistinct();
        var a = new object();
        var b = new object();
        demux.Register(Bound(53), NicId.Any, a, reusePort: true);
        CheckDistinct();
        demux.Register(Bound(53), NicId.Any, b, reusePort: true);
        CheckDistinct();
        demux.Unregister(Bound(53), NicId.Any, a);
        CheckDistinct();
        Assert.Equal(4 * Workers, every.Count);
    }

    [Fact]
    public void Slots_OnePerWorker_AtLeast128BytesApart()
    {
        Assert.True(TransportDemuxer<object>.SlotSize >= 128, $"slot is {TransportDemuxer<object>.SlotSize} bytes");
    }

    [Fact]
    public void Register_FailsWithPortInUse_PublishesNothing()
    {
        var demux = new TransportDemuxer<object>(Workers);
        demux.Register(Bound(53), NicId.Any, new object(), reusePort: false);
        object before = demux.ShardOf(0);
        Assert.Equal(StackError.PortInUse, demux.Register(Bound(53), NicId.Any, new object(), reusePort: false));
        Assert.Same(before, demux.ShardOf(0));
    }

    [Fact]
    public void Find_ReusePortGroup_SameEndpointOnEveryWorker()
    {
        var demux = new TransportDemuxer<string>(Workers);
        for (int i = 0; i < 4; i++)
            demux.Register(Bound(53), NicId.Any, $"ep{i}", reusePort: true);
        var chosen = new HashSet<string>();
        for (ushort port = 1024; port < 1424; port++)
        {
            string first = demux.Find(0, Packet(53, port), Nic)!;
            chosen.Add(first);
            for (int w = 1; w < Workers; w++)
                Assert.Equal(first, demux.Find(w, Packet(53, port), Nic));
        }
        Assert.Equal(4, chosen.Count);
    }

    [Fact]
    public void Find_EveryWorker_AfterWarmUp_AllocatesNothing()
    {
        var demux = new TransportDemuxer<object>(Workers);
        for (int i = 0; i < 4; i++)
            demux.Register(Bound(53), NicId.Any, new object(), reusePort: true);
        demux.Register(Bound(54), NicId.Any, new object(), reusePort: false);
        int found = 0;
        long Run()
        {
            return AllocationWindow.Measure(() =>
            {
                for (int w = 0; w < Workers; w++)
                {
                    for (ushort port = 1024; port < 2024; port++)
                    {
                        found += demux.Find(w, Packet(53, port), Nic) is null ? 0 : 1;
                        found += demux.Find(w, Packet(54, port), Nic) is null ? 0 : 1;
                        found += demux.Find(w, Packet(55, port), Nic) is null ? 0 : 1;
                        found += demux.FindExact(w, Bound(54)) is null ? 0 : 1;
                    }
                }
            });
        }
        Run();
        found = 0;
        Assert.Equal(0, Run());
        Assert.Equal(Workers * 1000 * 3, found);
    }

    /// <summary>
    /// A control thread registers keys one after another and unregisters each some steps later while
    /// four workers look up. A worker that has seen "key r registered" (the control call returned)
    /// must find it until its unregistration starts, and one that has seen "key u unregistered" must
    /// never find it again; a key present throughout is always found.
    /// </summary>
    [Fact]
    public void RegisterUnregister_WhileFourWorkersLookUp_NoExceptionNoStaleResult()
    {
        const int keys = 3000;
        const int window = 8;
        const ushort stablePort = 999;
        var demux = new TransportDemuxer<object>(Workers);
        var stable = new object();
        demux.Register(Bound(stablePort), NicId.Any, stable, reusePort: false);
        object[] endpoints = new object[keys];
        for (int i = 0; i < keys; i++)
            endpoints[i] = new object();
        static ushort PortOf(int i) => (ushort)(1000 + i);

        int registered = -1;         // highest key whose Register returned
        int unregisterStarted = -1;  // highest key whose Unregister was called
        int unregistered = -1;       // highest key whose Unregister returned
        bool done = false;
        string?[] failures = new string?[Workers];
        long[] checks = new long[Workers];
        using var start = new Barrier(Workers + 1);

        var threads = new Thread[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int worker = w;
            threads[w] = new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    while (!Volatile.Read(ref done) && failures[worker] is null)
                    {
                        int r = Volatile.Read(ref registered);
                        if (r >= 0)
                        {
                            object? e = demux.Find(worker, Packet(PortOf(r)), Nic);
                            if (e is null && Volatile.Read(ref unregisterStarted) < r)
                                failures[worker] = $"key {r} missing after Register returned";
                            else if (e is not null && !ReferenceEquals(e, endpoints[r]))
                                failures[worker] = $"key {r} found the wrong endpoint";
                            checks[worker]++;
                        }
                        int u = Volatile.Read(ref unregistered);
                        if (u >= 0 && demux.Find(worker, Packet(PortOf(u)), Nic) is not null)
                            failures[worker] = $"key {u} still found after Unregister returned";
                        if (!ReferenceEquals(stable, demux.Find(worker, Packet(stablePort), Nic)))
                            failures[worker] = "the stable key was not found";
                    }
                }
                catch (Exception e)
                {
                    failures[worker] = e.ToString();
                }
            }) { IsBackground = true, Name = $"demux worker {w}" };
            threads[w].Start();
        }

        start.SignalAndWait();
        for (int i = 0; i < keys; i++)
        {
            Assert.Equal(StackError.None, demux.Register(Bound(PortOf(i)), NicId.Any, endpoints[i], reusePort: false));
            Volatile.Write(ref registered, i);
            if (i >= window)
            {
                Volatile.Write(ref unregisterStarted, i - window);
                Assert.True(demux.Unregister(Bound(PortOf(i - window)), NicId.Any, endpoints[i - window]));
                Volatile.Write(ref unregistered, i - window);
            }
            // Give the workers a chance to interleave on a machine with fewer cores than threads.
            if (i % 64 == 0)
                Thread.Yield();
        }
        Volatile.Write(ref done, true);
        foreach (Thread t in threads)
            Assert.True(t.Join(TimeSpan.FromSeconds(60)));

        Assert.All(failures, Assert.Null);
        Assert.All(checks, c => Assert.True(c > 0, "a worker never looked up during the run"));
        for (int w = 0; w < Workers; w++)
        {
            Assert.Same(endpoints[keys - 1], demux.Find(w, Packet(PortOf(keys - 1)), Nic));
            Assert.Null(demux.Find(w, Packet(PortOf(keys - window - 1)), Nic));
        }
    }

    // Runs f(w) on a fresh thread per worker and returns the results by worker.
    private static object?[] RunOnWorkers(Func<int, object?> f)
    {
        object?[] results = new object?[Workers];
        var threads = new Thread[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int worker = w;
            threads[w] = new Thread(() => results[worker] = f(worker));
            threads[w].Start();
        }
        foreach (Thread t in threads)
            t.Join();
        return results;
    }
}
