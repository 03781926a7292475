using CsCheck;
using XdpStack.Stack.Routing;

namespace XdpStack.Stack.Tests.Routing;

public class Ipv4LpmTests
{
    // Prefixes cluster in 198.18.0.0/16 half the time so that rules overlap and share tbl8 groups.
    private static readonly Gen<uint> GenBase = Gen.Frequency((1, Gen.UInt), (1, Gen.UInt[0xC612_0000u, 0xC612_FFFFu]));

    // Lengths favour the interesting boundaries: /0, /24, /25, /32 and the tbl8 range.
    private static readonly Gen<int> GenLength = Gen.Frequency(
        (4, Gen.Int[0, 32]), (1, Gen.Const(24)), (1, Gen.Const(25)), (1, Gen.Const(32)), (2, Gen.Int[25, 31]), (1, Gen.Int[16, 23]));

    // Kind 0..5: add, 6..7: remove an existing rule, 8: remove a random (usually absent) prefix, 9: publish a snapshot.
    private static readonly Gen<(int Kind, uint Prefix, int Length, int NextHop)> GenOp =
        Gen.Select(Gen.Int[0, 9], GenBase, GenLength, Gen.Int[0, Ipv4Lpm.MaxNextHop]);

    [Fact]
    public void Lookup_RandomAddsAndRemoves_MatchesLinearReference()
    {
        Gen.Select(GenOp.Array[1, 80], Gen.UInt.Array[64]).Sample((ops, probes) =>
        {
            var builder = new Ipv4LpmBuilder(useHugePages: false);
            var reference = new NaiveLpm(32);
            var snapshots = new List<(Ipv4Lpm Table, NaiveLpm Reference)>();
            foreach ((int kind, uint prefix, int length, int nextHop) in ops)
            {
                switch (kind)
                {
                    case <= 5:
                        bool isNew = !builder.TryGetRule(prefix, length, out _);
                        Assert.Equal(isNew, builder.Add(prefix, length, nextHop));
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
                        snapshots.Add((builder.Build(), reference.Clone()));
                        break;
                }
            }
            snapshots.Add((builder.Build(), reference));
            Assert.Equal(reference.Count, builder.Count);
            // Every snapshot still answers as the rules stood when it was built: later changes never leak into it.
            foreach ((Ipv4Lpm table, NaiveLpm expected) in snapshots)
            {
                Assert.Equal(expected.Count, table.RuleCount);
                uint[] addresses = [.. probes, .. expected.EdgeAddresses().Select(a => (uint)a)];
                var batched = new int[addresses.Length];
                table.Lookup(addresses, batched);
                for (int i = 0; i < addresses.Length; i++)
                {
                    int want = expected.Lookup(addresses[i]);
                    Assert.Equal(want, table.Lookup(addresses[i]));
                    Assert.Equal(want, batched[i]);
                }
            }
        }, iter: 40);
    }

    [Fact]
    public void Remove_AllLongPrefixes_FreesEveryTbl8Group()
    {
        Gen.Select(GenBase, Gen.Int[25, 32]).Array[1, 40].Sample(rules =>
        {
            var builder = new Ipv4LpmBuilder(useHugePages: false);
            builder.Add(0xC612_0000, 16, 7);
            foreach ((uint prefix, int length) in rules)
                builder.Add(prefix, length, 1);
            Assert.True(builder.Build().Tbl8GroupCount > 0);
            foreach ((uint prefix, int length) in rules)
                builder.Remove(prefix, length);
            Ipv4Lpm table = builder.Build();
            Assert.Equal(0, table.Tbl8GroupCount);
            Assert.Equal(7, table.Lookup(0xC612_1234));
            Assert.Equal(-1, table.Lookup(0xC613_0000));
        }, iter: 30);
    }

    [Fact]
    public void Lookup_Boundaries24And25And32_PickLongestPrefix()
    {
        var builder = new Ipv4LpmBuilder(useHugePages: false);
        builder.Add(0, 0, 1);                 // default route
        builder.Add(0xC612_0100, 24, 2);      // 198.18.1.0/24
        builder.Add(0xC612_0180, 25, 3);      // 198.18.1.128/25
        builder.Add(0xC612_01FF, 32, 4);      // 198.18.1.255/32
        Ipv4Lpm table = builder.Build();
        Assert.Equal(1, table.Lookup(0xC612_00FF));
        Assert.Equal(2, table.Lookup(0xC612_0100));
        Assert.Equal(2, table.Lookup(0xC612_017F));
        Assert.Equal(3, table.Lookup(0xC612_0180));
        Assert.Equal(3, table.Lookup(0xC612_01FE));
        Assert.Equal(4, table.Lookup(0xC612_01FF));
        Assert.Equal(1, table.Lookup(0xC612_0200));

        Assert.True(builder.Remove(0xC612_0180, 25));
        Ipv4Lpm after = builder.Build();
        Assert.Equal(2, after.Lookup(0xC612_0180));
        Assert.Equal(4, after.Lookup(0xC612_01FF));
        Assert.Equal(3, table.Lookup(0xC612_0180));
    }

    [Fact]
    public void Lookup_EmptyTable_ReturnsMinusOne()
    {
        Ipv4Lpm table = new Ipv4LpmBuilder(useHugePages: false).Build();
        Assert.Equal(-1, table.Lookup(0));
        Assert.Equal(-1, table.Lookup(uint.MaxValue));
    }

    [Fact]
    public void Lookup_MaxNextHop_RoundTrips()
    {
        var builder = new Ipv4LpmBuilder(useHugePages: false);
        builder.Add(0xC612_0000, 15, Ipv4Lpm.MaxNextHop);
        builder.Add(0xC612_0001, 32, 0);
        Ipv4Lpm table = builder.Build();
        Assert.Equal(Ipv4Lpm.MaxNextHop, table.Lookup(0xC613_FFFF));
        Assert.Equal(0, table.Lookup(0xC612_0001));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Add(0, 8, Ipv4Lpm.MaxNextHop + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Add(0, 33, 1));
    }

    [Fact]
    public void LookupBatch_EveryPathAndLength_MatchesSingleLookups()
    {
        var builder = new Ipv4LpmBuilder(useHugePages: false);
        var random = new Random(4);
        for (int i = 0; i < 2000; i++)
            builder.Add(0xC612_0000u | (uint)random.Next(0x10000), random.Next(16, 33), random.Next(1000));
        Ipv4Lpm table = builder.Build();
        for (int n = 0; n <= 40; n++)
        {
            uint[] addresses = Enumerable.Range(0, n).Select(_ => 0xC612_0000u | (uint)random.Next(0x20000)).ToArray();
            int[] expected = addresses.Select(table.Lookup).ToArray();
            var scalar = new int[n];
            table.LookupScalar(addresses, scalar);
            Assert.Equal(expected, scalar);
            var dispatched = new int[n];
            table.Lookup(addresses, dispatched);
            Assert.Equal(expected, dispatched);
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                var avx2 = new int[n];
                table.LookupAvx2(addresses, avx2);
                Assert.Equal(expected, avx2);
            }
        }
    }

    [Fact]
    public void Lookup_SteadyState_AllocatesNothing()
    {
        var builder = new Ipv4LpmBuilder(useHugePages: false);
        builder.Add(0xC612_0000, 15, 1);
        builder.Add(0xC612_0101, 32, 2);
        Ipv4Lpm table = builder.Build();
        uint[] addresses = Enumerable.Range(0, 256).Select(i => 0xC612_0100u + (uint)i).ToArray();
        var results = new int[addresses.Length];
        table.Lookup(addresses, results);
        long sum = table.Lookup(0xC612_0101);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            table.Lookup(addresses, results);
            sum += table.Lookup(addresses[i]);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(2, results[1]);
        Assert.True(sum > 0);
    }

    [Fact]
    public void Build_NoChange_ReturnsSameSnapshot()
    {
        var builder = new Ipv4LpmBuilder(useHugePages: false);
        builder.Add(0x0A00_0000, 8, 1);
        Ipv4Lpm first = builder.Build();
        Assert.Same(first, builder.Build());
        Assert.False(builder.Add(0x0A00_0000, 8, 1));
        Assert.Same(first, builder.Build());
        builder.Add(0x0A00_0000, 8, 2);
        Ipv4Lpm second = builder.Build();
        Assert.NotSame(first, second);
        Assert.Equal(1, first.Lookup(0x0A01_0203));
        Assert.Equal(2, second.Lookup(0x0A01_0203));
    }
}
