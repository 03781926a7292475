using CsCheck;
using XdpStack.Stack.Routing;

namespace XdpStack.Stack.Tests.Routing;

/// <summary>The in-place mode of <see cref="Ipv4LpmBuilder"/> (built with <see cref="ReaderEpochs"/>): same answers as a fresh build, group reuse only after readers quiesce, and no wrong answer for an untouched prefix under churn.</summary>
public class Ipv4LpmInPlaceTests
{
    // Prefixes cluster in 198.18.0.0/16 most of the time so that rules overlap, share tbl8 groups and, with up to 300
    // operations, pass the 64 groups a table starts with (the copy-for-growth path).
    private static readonly Gen<uint> GenBase = Gen.Frequency((1, Gen.UInt), (3, Gen.UInt[0xC612_0000u, 0xC612_FFFFu]));

    private static readonly Gen<int> GenLength = Gen.Frequency(
        (3, Gen.Int[0, 32]), (1, Gen.Const(24)), (1, Gen.Const(25)), (1, Gen.Const(32)), (4, Gen.Int[25, 31]), (1, Gen.Int[16, 23]));

    // Kind 0..5: add, 6..7: remove an existing rule, 8: remove a random (usually absent) prefix, 9: build,
    // 10: the reader quiesces (so some retired groups become reusable, others not yet).
    private static readonly Gen<(int Kind, uint Prefix, int Length, int NextHop)> GenOp =
        Gen.Select(Gen.Int[0, 10], GenBase, GenLength, Gen.Int[0, Ipv4Lpm.MaxNextHop]);

    [Fact]
    public void InPlace_RandomAddsAndRemoves_LookupsMatchFreshBuild()
    {
        Gen.Select(GenOp.Array[1, 300], Gen.UInt.Array[64]).Sample((ops, probes) =>
        {
            var readers = new ReaderEpochs();
            ReaderEpoch reader = readers.Register();
            var builder = new Ipv4LpmBuilder(useHugePages: false, inPlaceReaders: readers);
            var reference = new NaiveLpm(32);
            builder.Build();
            foreach ((int kind, uint prefix, int length, int nextHop) in ops)
            {
                switch (kind)
                {
                    case <= 5:
                        builder.Add(prefix, length, nextHop);
                        reference.Add(prefix, length, nextHop);
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
                        builder.Build();
                        break;
                    case 10:
                        reader.Quiesce();
                        break;
                }
            }
            Ipv4Lpm inPlace = builder.Build();

            var fresh = new Ipv4LpmBuilder(useHugePages: false);
            foreach ((uint prefix, int length, int nextHop) in builder.Rules())
                fresh.Add(prefix, length, nextHop);
            Ipv4Lpm rebuilt = fresh.Build();

            Assert.Equal(reference.Count, inPlace.RuleCount);
            Assert.Equal(rebuilt.Tbl8GroupCount, inPlace.Tbl8GroupCount);
            uint[] addresses = [.. probes, .. reference.EdgeAddresses().Select(a => (uint)a)];
            var batched = new int[addresses.Length];
            inPlace.Lookup(addresses, batched);
            for (int i = 0; i < addresses.Length; i++)
            {
                int want = rebuilt.Lookup(addresses[i]);
                Assert.Equal(reference.Lookup(addresses[i]), want);
                Assert.Equal(want, inPlace.Lookup(addresses[i]));
                Assert.Equal(want, batched[i]);
            }
        }, iter: 40);
    }

    [Fact]
    public void InPlace_AfterFirstBuild_ChangesTheSameTableAndBuildReturnsIt()
    {
        var builder = new Ipv4LpmBuilder(useHugePages: false, inPlaceReaders: new ReaderEpochs());
        builder.Add(0xC612_0000, 16, 1);
        Ipv4Lpm table = builder.Build();
        builder.Add(0xC612_0180, 25, 2);          // 198.18.1.128/25: a new tbl8 group
        Assert.Equal(2, table.Lookup(0xC612_01FF));
        Assert.Equal(1, table.Lookup(0xC612_017F));
        Assert.True(builder.Remove(0xC612_0000, 16));
        Assert.Equal(-1, table.Lookup(0xC612_017F));
        Assert.Same(table, builder.Build());
        Assert.Equal(1, table.RuleCount);
    }

    [Fact]
    public void InPlace_FreedGroup_IsReusedOnlyAfterEveryReaderQuiesced()
    {
        var readers = new ReaderEpochs();
        ReaderEpoch first = readers.Register();
        ReaderEpoch second = readers.Register();
        var builder = new Ipv4LpmBuilder(useHugePages: false, inPlaceReaders: readers);
        Ipv4Lpm table = builder.Build();

        builder.Add(0xC612_0101, 32, 1);          // 198.18.1.1/32
        int freed = GroupOf(table, 0xC612_0101);
        Assert.True(builder.Remove(0xC612_0101, 32));
        Assert.False(IsGroup(table, 0xC612_0101));
        builder.Build();
        Assert.Equal(1, builder.RetiredGroupCount);

        // Both readers may still be inside the group: a new /24 takes another.
        builder.Add(0xC612_0201, 32, 2);
        Assert.NotEqual(freed, GroupOf(table, 0xC612_0201));
        first.Quiesce();
        builder.Build();
        builder.Add(0xC612_0301, 32, 3);
        Assert.NotEqual(freed, GroupOf(table, 0xC612_0301));
        Assert.Equal(1, builder.RetiredGroupCount);

        // Once the second has passed a quiescent point too, the group is free again.
        second.Quiesce();
        builder.Build();
        Assert.Equal(0, builder.RetiredGroupCount);
        builder.Add(0xC612_0401, 32, 4);
        Assert.Equal(freed, GroupOf(table, 0xC612_0401));
        Assert.Equal(4, table.Lookup(0xC612_0401));
        Assert.Equal(-1, table.Lookup(0xC612_0402));
    }

    [Fact]
    public void InPlace_UnregisteredReader_NoLongerHoldsBackReuse()
    {
        var readers = new ReaderEpochs();
        ReaderEpoch gone = readers.Register();
        var builder = new Ipv4LpmBuilder(useHugePages: false, inPlaceReaders: readers);
        Ipv4Lpm table = builder.Build();
        builder.Add(0xC612_0101, 32, 1);
        int freed = GroupOf(table, 0xC612_0101);
        builder.Remove(0xC612_0101, 32);
        builder.Build();
        Assert.Equal(1, builder.RetiredGroupCount);
        readers.Unregister(gone);
        Assert.Equal(0, readers.Count);
        builder.Build();
        Assert.Equal(0, builder.RetiredGroupCount);
        builder.Add(0xC612_0201, 32, 2);
        Assert.Equal(freed, GroupOf(table, 0xC612_0201));
    }

    [Fact]
    public void InPlace_Tbl8Full_CopiesWithMoreGroupsAndLeavesTheOldTableAsItWas()
    {
        var readers = new ReaderEpochs();
        readers.Register();                       // never quiesces: no retired group can come back
        var builder = new Ipv4LpmBuilder(useHugePages: false, inPlaceReaders: readers);
        Ipv4Lpm table = builder.Build();
        int capacity = table.Tbl8Capacity;
        for (int i = 0; i < capacity; i++)
            builder.Add(0xC612_0001u + ((uint)i << 8), 32, i);    // 198.18.i.1/32, one group each
        Assert.Same(table, builder.Build());
        Assert.Equal(capacity, table.Tbl8GroupCount);

        builder.Remove(0xC612_0001, 32);          // in place; its group waits for the reader
        Assert.Equal(-1, table.Lookup(0xC612_0001));
        builder.Add(0xC613_0001, 32, 99);         // 198.19.0.1/32 needs a group: none is free, so a private copy
        builder.Add(0xC613_0201, 32, 98);         // the copy reused the retired group for the first; this one grows it
        Assert.Equal(-1, table.Lookup(0xC613_0001));
        Assert.Equal(-1, table.Lookup(0xC613_0201));
        Assert.Equal(capacity, table.Tbl8Capacity);
        Ipv4Lpm grown = builder.Build();
        Assert.NotSame(table, grown);
        Assert.True(grown.Tbl8Capacity > capacity);
        Assert.Equal(99, grown.Lookup(0xC613_0001));
        Assert.Equal(98, grown.Lookup(0xC613_0201));
        Assert.Equal(-1, grown.Lookup(0xC612_0001));
        Assert.Equal(5, grown.Lookup(0xC612_0501));
        Assert.Equal(0, builder.RetiredGroupCount);

        // In-place updates go on in the copy.
        builder.Add(0xC613_0101, 32, 100);
        Assert.Equal(100, grown.Lookup(0xC613_0101));
        Assert.Same(grown, builder.Build());
    }

    [Fact]
    public void InPlace_WriterChurnsOtherPrefixes_ReaderNeverSeesAnUntouchedAnswerChange()
    {
        // Untouched: 198.18.X.0/24 -> 1000+X and 198.18.X.128/25 -> 2000+X for X < 64 (groups that never collapse),
        // and 198.19.0.0/16 -> 7. Churn: /26../32 inside 198.18.X.0/26 and 198.19.Y.0/26 (groups made and collapsed
        // under the probes of 198.19.Y.200), and /17../32 anywhere in 198.18.128.0/17 (short rules expanded over groups).
        var readers = new ReaderEpochs();
        var builder = new Ipv4LpmBuilder(useHugePages: false, inPlaceReaders: readers);
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

        uint[] addresses = probes.Select(p => p.Address).ToArray();
        int[] expected = probes.Select(p => p.NextHop).ToArray();
        long passes = 0, wrong = 0, allocated = 0;
        bool done = false;
        string? firstWrong = null;
        using var started = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            ReaderEpoch epoch = readers.Register();
            started.Set();
            var results = new int[addresses.Length];
            long before = GC.GetAllocatedBytesForCurrentThread();
            // One more pass after the writer is done, so the last state is read too.
            for (bool last = false; !last;)
            {
                last = Volatile.Read(ref done);
                Ipv4Lpm t = Volatile.Read(ref current);
                t.Lookup(addresses, results);
                for (int i = 0; i < addresses.Length; i++)
                {
                    int one = t.Lookup(addresses[i]);
                    if (results[i] != expected[i] || one != expected[i])
                    {
                        if (wrong++ == 0)
                            firstWrong = $"{addresses[i]:X8}: batched {results[i]}, single {one}, want {expected[i]}";
                    }
                }
                epoch.Quiesce();
                passes++;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
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

        Assert.True(passes > 1, $"the reader made {passes} passes");
        Assert.True(wrong == 0, $"{wrong} wrong answers for untouched prefixes in {passes} passes; first: {firstWrong}");
        Assert.Equal(0, allocated);
        // The churned rules still answer as a fresh build of the final rules does.
        var fresh = new Ipv4LpmBuilder(useHugePages: false);
        foreach ((uint prefix, int length, int nextHop) in builder.Rules())
            fresh.Add(prefix, length, nextHop);
        Ipv4Lpm rebuilt = fresh.Build();
        foreach ((uint prefix, int length) in churn)
            Assert.Equal(rebuilt.Lookup(prefix), current.Lookup(prefix));
    }

    private static bool IsGroup(Ipv4Lpm table, uint address) => (table._tbl24[(int)(address >> 8)] & Ipv4Lpm.GroupFlag) != 0;

    private static int GroupOf(Ipv4Lpm table, uint address)
    {
        Assert.True(IsGroup(table, address));
        return (int)(table._tbl24[(int)(address >> 8)] & Ipv4Lpm.ValueMask);
    }
}
