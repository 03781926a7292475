using CsCheck;
using XdpStack.Stack.Routing;

namespace XdpStack.Stack.Tests.Routing;

/// <summary><see cref="Ipv4LpmBuilder"/> with <see cref="ReaderEpochs"/> (two tables, left-right): same answers as a fresh build, a published table untouched until every reader has left it, and a consistent table for a reader under churn.</summary>
public class Ipv4LpmDoubleBufferTests
{
    // Prefixes cluster in 198.18.0.0/16 most of the time so that rules overlap, share tbl8 groups and, with up to 300
    // operations, pass the 64 groups a table starts with (tbl8 grows in the working table).
    private static readonly Gen<uint> GenBase = Gen.Frequency((1, Gen.UInt), (3, Gen.UInt[0xC612_0000u, 0xC612_FFFFu]));

    private static readonly Gen<int> GenLength = Gen.Frequency(
        (3, Gen.Int[0, 32]), (1, Gen.Const(24)), (1, Gen.Const(25)), (1, Gen.Const(32)), (4, Gen.Int[25, 31]), (1, Gen.Int[16, 23]));

    // Kind 0..5: add, 6..7: remove an existing rule, 8: remove a random (usually absent) prefix, 9: build (and the
    // reader reads the new table), 10: the reader goes offline (so the next round reuses the other table; while the
    // reader is online a round copies, since the writer's grace period starts only when a round does and this test
    // has one thread).
    private static readonly Gen<(int Kind, uint Prefix, int Length, int NextHop)> GenOp =
        Gen.Select(Gen.Int[0, 10], GenBase, GenLength, Gen.Int[0, Ipv4Lpm.MaxNextHop]);

    [Fact]
    public void RandomAddsAndRemoves_EveryBuildMatchesTheRules_AndNoPublishedTableChangesWhileHeld()
    {
        int reuses = 0, copies = 0;
        Gen.Select(GenOp.Array[1, 300], Gen.UInt.Array[64]).Sample((ops, probes) =>
        {
            var readers = new ReaderEpochs();
            ReaderEpoch reader = readers.Register();
            var builder = new Ipv4LpmBuilder(useHugePages: false, readers, graceTimeout: TimeSpan.Zero);
            var reference = new NaiveLpm(32);
            // Every table the reader has read since it was last offline, with the answers it gave: it may hold any.
            var held = new List<(Ipv4Lpm Table, int[] Answers)>();
            var addresses = new List<uint>(probes);
            void Check(Ipv4Lpm table)
            {
                if (reader.IsOffline)
                    reader.GoOnline();
                uint[] all = [.. addresses, .. reference.EdgeAddresses().Select(a => (uint)a)];
                foreach (uint a in all)
                    Assert.Equal(reference.Lookup(a), table.Lookup(a));
                held.Add((table, [.. probes.Select(table.Lookup)]));
            }
            Check(builder.Build());
            foreach ((int kind, uint prefix, int length, int nextHop) in ops)
            {
                switch (kind)
                {
                    case <= 5:
                        builder.Add(prefix, length, nextHop);
                        reference.Add(prefix, length, nextHop);
                        addresses.Add(prefix);
                        break;
                    case <= 7 when reference.Count > 0:
                        (UInt128 p, int l) = reference.Keys[nextHop % reference.Count];
                        Assert.True(builder.Remove((uint)p, l));
                        reference.Remove(p, l);
                        break;
                    case 8:
                        Assert.Equal(reference.Remove(prefix, length), builder.Remove(prefix, length));
                        break;
                    case 9:
                        Check(builder.Build());
                        break;
                    case 10:
                        reader.GoOffline();
                        held.Clear();
                        break;
                }
                foreach ((Ipv4Lpm table, int[] answers) in held)
                    Assert.Equal(answers, probes.Select(table.Lookup));
            }
            Check(builder.Build());
            Assert.Equal(reference.Count, builder.Count);
            reuses += builder.Reuses;
            copies += builder.Copies;
        }, iter: 300);
        Assert.True(reuses > 100 && copies > 100, $"reuses {reuses}, copies {copies}: both paths must be reached");
    }

    [Fact]
    public void OtherTable_IsReusedOnlyAfterEveryReaderLeftIt()
    {
        var readers = new ReaderEpochs();
        ReaderEpoch first = readers.Register();
        ReaderEpoch second = readers.Register();
        var builder = new Ipv4LpmBuilder(useHugePages: false, readers, graceTimeout: TimeSpan.Zero);
        builder.Add(0xC612_0000, 16, 1);
        Ipv4Lpm a = builder.Build();
        builder.Add(0xC612_0101, 32, 2);          // no other table yet: a copy
        Ipv4Lpm b = builder.Build();
        Assert.NotSame(a, b);
        Assert.Equal(1, a.Lookup(0xC612_0101));
        Assert.Equal(2, b.Lookup(0xC612_0101));

        // The second reader may still be in a: the next round copies b rather than write a.
        first.GoOffline();
        builder.Add(0xC612_0202, 32, 3);
        Ipv4Lpm c = builder.Build();
        Assert.NotSame(a, c);
        Assert.NotSame(b, c);
        Assert.Equal(1, a.Lookup(0xC612_0101));
        Assert.Equal(1, b.Lookup(0xC612_0202));

        // Both have left b (c is published): b is brought up to date and reused, c stays as it was.
        second.GoOffline();
        builder.Remove(0xC612_0000, 16);
        Ipv4Lpm d = builder.Build();
        Assert.Same(b, d);
        Assert.Equal(-1, d.Lookup(0xC612_0303));
        Assert.Equal(3, d.Lookup(0xC612_0202));    // from c's round, caught up
        Assert.Equal(2, d.Lookup(0xC612_0101));
        Assert.Equal(1, c.Lookup(0xC612_0303));
        Assert.Equal((2, 1), (builder.Copies, builder.Reuses));
    }

    [Fact]
    public void OfflineOrUnregisteredReader_DoesNotHoldBackReuse()
    {
        var readers = new ReaderEpochs();
        ReaderEpoch asleep = readers.Register();
        ReaderEpoch gone = readers.Register();
        var builder = new Ipv4LpmBuilder(useHugePages: false, readers, graceTimeout: TimeSpan.Zero);
        Ipv4Lpm a = builder.Build();
        builder.Add(0xC612_0101, 32, 1);
        builder.Build();
        asleep.GoOffline();
        readers.Unregister(gone);
        builder.Add(0xC612_0202, 32, 2);
        Assert.Same(a, builder.Build());
        Assert.True(asleep.IsOffline);
        asleep.GoOnline();
        Assert.False(asleep.IsOffline);

        // Online again and not quiesced: the next round may not write the table it may hold.
        builder.Add(0xC612_0303, 32, 3);
        Ipv4Lpm c = builder.Build();
        Assert.NotSame(a, c);
        Assert.Equal(1, builder.Reuses);
    }

    [Fact]
    public void LateReader_IsAwaitedUpToTheGraceTimeout()
    {
        var readers = new ReaderEpochs();
        ReaderEpoch reader = readers.Register();
        var builder = new Ipv4LpmBuilder(useHugePages: false, readers, graceTimeout: TimeSpan.FromSeconds(10));
        Ipv4Lpm a = builder.Build();
        builder.Add(0xC612_0101, 32, 1);
        builder.Build();
        // The reader passes its quiescent point while the writer waits.
        using var timer = new Timer(_ => reader.Quiesce(), null, 100, Timeout.Infinite);
        builder.Add(0xC612_0202, 32, 2);
        Assert.Same(a, builder.Build());
        Assert.Equal(2, a.Lookup(0xC612_0202));
        Assert.Equal(1, a.Lookup(0xC612_0101));
    }

    [Fact]
    public void Tbl8Growth_InOneTable_IsCaughtUpInTheOther()
    {
        var readers = new ReaderEpochs();
        var builder = new Ipv4LpmBuilder(useHugePages: false, readers);
        Ipv4Lpm a = builder.Build();
        int capacity = a.Tbl8Capacity;
        builder.Add(0xC613_0001, 32, 7);
        Ipv4Lpm b = builder.Build();
        for (int i = 0; i < capacity + 5; i++)
            builder.Add(0xC612_0001u + ((uint)i << 8), 32, i);    // 198.18.i.1/32, one group each: tbl8 grows
        Ipv4Lpm grown = builder.Build();
        Assert.Same(a, grown);
        Assert.True(grown.Tbl8Capacity > capacity);
        Assert.Equal(capacity, b.Tbl8Capacity);
        builder.Remove(0xC612_0001, 32);
        Ipv4Lpm caughtUp = builder.Build();
        Assert.Same(b, caughtUp);
        Assert.Equal(grown.Tbl8Capacity, caughtUp.Tbl8Capacity);
        Assert.Equal(-1, caughtUp.Lookup(0xC612_0001));
        for (int i = 1; i < capacity + 5; i++)
            Assert.Equal(i, caughtUp.Lookup(0xC612_0001u + ((uint)i << 8)));
        Assert.Equal(7, caughtUp.Lookup(0xC613_0001));
        Assert.Equal(capacity + 5, caughtUp.Tbl8GroupCount);
        Assert.Equal(7, grown.Lookup(0xC613_0001));
    }

    [Fact]
    public void WriterChurns_ReaderSeesOneUnchangingTablePerPass_AndUntouchedAnswersNeverChange()
    {
        // Untouched: 198.18.X.0/24 -> 1000+X and 198.18.X.128/25 -> 2000+X for X < 64, and 198.19.0.0/16 -> 7.
        // Churn: /26../32 inside 198.18.X.0/26 and 198.19.Y.0/26 (groups made and collapsed), and /17../32 anywhere in
        // 198.18.128.0/17 (short rules expanded over groups). The reader also looks up churned addresses twice per pass:
        // a table it holds must not change under it.
        var readers = new ReaderEpochs();
        var builder = new Ipv4LpmBuilder(useHugePages: false, readers);
        var probes = new List<(uint Address, int NextHop)>();
        for (uint x = 0; x < 64; x++)
        {
            builder.Add(0xC612_0000 | (x << 8), 24, 1000 + (int)x);
            builder.Add(0xC612_0080 | (x << 8), 25, 2000 + (int)x);
            probes.Add((0xC612_0064 | (x << 8), 1000 + (int)x));
            probes.Add((0xC612_00C8 | (x << 8), 2000 + (int)x));
        }
        builder.Add(0xC613_0000, 16, 7);
        for (uint y = 0; y < 256; y++)
            probes.Add((0xC613_00C8 | (y << 8), 7));
        Ipv4Lpm current = builder.Build();

        var sampler = new Random(3);
        uint[] churned = [.. Enumerable.Range(0, 512).Select(i => i % 2 == 0
            ? 0xC613_0000u | ((uint)sampler.Next(256) << 8) | (uint)sampler.Next(64)
            : 0xC612_8000u | (uint)sampler.Next(1 << 15))];
        uint[] addresses = [.. probes.Select(p => p.Address), .. churned];
        int[] expected = probes.Select(p => p.NextHop).ToArray();
        long passes = 0, wrong = 0, unstable = 0, allocated = 0;
        bool done = false;
        string? firstWrong = null;
        using var started = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            ReaderEpoch epoch = readers.Register();
            started.Set();
            var batched = new int[addresses.Length];
            // Measured from the 100th pass on, after a collection: a collection retires the thread's allocation context
            // and counts its unused rest (here 4,416 bytes after the array above) as allocated, which the writer's
            // table copies can otherwise trigger mid-run.
            long before = 0;
            for (bool last = false; !last;)
            {
                if (passes == 100)
                {
                    GC.Collect();
                    before = GC.GetAllocatedBytesForCurrentThread();
                }
                last = Volatile.Read(ref done);
                Ipv4Lpm t = Volatile.Read(ref current);
                t.Lookup(addresses, batched);
                for (int i = 0; i < addresses.Length; i++)
                {
                    int one = t.Lookup(addresses[i]);
                    if (one != batched[i])
                        unstable++;
                    if (i < expected.Length && one != expected[i] && wrong++ == 0)
                        firstWrong = $"{addresses[i]:X8}: batched {batched[i]}, single {one}, want {expected[i]}";
                }
                epoch.Quiesce();
                passes++;
            }
            allocated = passes > 100 ? GC.GetAllocatedBytesForCurrentThread() - before : -1;
            readers.Unregister(epoch);
        });
        thread.Start();
        started.Wait();

        var random = new Random(14);
        var churn = new List<(uint Prefix, int Length)>();
        var live = new HashSet<(uint, int)>();
        const int Operations = 150_000;
        for (int op = 0; op < Operations; op++)
        {
            if (churn.Count > 0 && (churn.Count >= 3000 || random.Next(2) == 0))
            {
                int k = random.Next(churn.Count);
                (uint prefix, int length) = churn[k];
                churn[k] = churn[^1];
                churn.RemoveAt(churn.Count - 1);
                live.Remove((prefix, length));
                Assert.True(builder.Remove(prefix, length));
            }
            else
            {
                (uint prefix, int length) = random.Next(3) switch
                {
                    0 => (0xC612_0000 | ((uint)random.Next(64) << 8) | (uint)random.Next(64), random.Next(26, 33)),
                    1 => (0xC613_0000 | ((uint)random.Next(256) << 8) | (uint)random.Next(64), random.Next(26, 33)),
                    _ => (0xC612_8000 | (uint)random.Next(1 << 15), random.Next(17, 33)),
                };
                prefix &= Ipv4LpmBuilder.Mask(length);
                if (live.Add((prefix, length)))
                    churn.Add((prefix, length));
                builder.Add(prefix, length, random.Next(3000, 4000));
            }
            if (op % 64 == 63)
                Volatile.Write(ref current, builder.Build());
        }
        Volatile.Write(ref current, builder.Build());
        Volatile.Write(ref done, true);
        thread.Join();

        Assert.True(passes > 100, $"the reader made {passes} passes");
        Assert.True(wrong == 0, $"{wrong} wrong answers for untouched prefixes in {passes} passes; first: {firstWrong}");
        Assert.True(unstable == 0, $"{unstable} answers changed within a pass over one table in {passes} passes");
        Assert.Equal(0, allocated);
        Assert.True(builder.Reuses > 0, $"reuses {builder.Reuses}, copies {builder.Copies}");
        // The churned rules answer as a fresh build of the final rules does.
        var fresh = new Ipv4LpmBuilder(useHugePages: false);
        foreach ((uint prefix, int length, int nextHop) in builder.Rules())
            fresh.Add(prefix, length, nextHop);
        Ipv4Lpm rebuilt = fresh.Build();
        foreach (uint a in churned.Concat(churn.Select(c => c.Prefix)))
            Assert.Equal(rebuilt.Lookup(a), current.Lookup(a));
    }
}
