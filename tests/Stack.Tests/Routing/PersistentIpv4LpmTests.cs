using CsCheck;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Stack.Tests.Routing;

/// <summary><see cref="PersistentIpv4LpmBuilder"/>: every version answers as the naive reference did when it was built, whatever changed after, and a version copies only the chunks its changes touched.</summary>
public class PersistentIpv4LpmTests
{
    private static readonly Gen<uint> GenBase = Gen.Frequency((1, Gen.UInt), (3, Gen.UInt[0xC612_0000u, 0xC612_FFFFu]));

    private static readonly Gen<int> GenLength = Gen.Frequency(
        (3, Gen.Int[0, 32]), (1, Gen.Const(24)), (1, Gen.Const(25)), (1, Gen.Const(32)), (4, Gen.Int[25, 31]), (1, Gen.Int[8, 23]));

    // Kind 0..5: add, 6..7: remove an existing rule, 8: remove a random (usually absent) prefix, 9: build.
    private static readonly Gen<(int Kind, uint Prefix, int Length, int NextHop)> GenOp =
        Gen.Select(Gen.Int[0, 9], GenBase, GenLength, Gen.Int[0, Ipv4Lpm.MaxNextHop]);

    [Fact]
    public void Versions_RandomAddsAndRemoves_EachKeepsTheAnswersOfItsBuild()
    {
        Gen.Select(GenOp.Array[1, 300], Gen.UInt.Array[64]).Sample((ops, probes) =>
        {
            var builder = new PersistentIpv4LpmBuilder();
            var reference = new NaiveLpm(32);
            var versions = new List<(PersistentIpv4Lpm Lpm, NaiveLpm Reference)>();
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
                        versions.Add((builder.Build(), reference.Clone()));
                        break;
                }
            }
            versions.Add((builder.Build(), reference.Clone()));
            Assert.Equal(reference.Count, builder.Count);

            foreach ((PersistentIpv4Lpm lpm, NaiveLpm expected) in versions)
            {
                Assert.Equal(expected.Count, lpm.RuleCount);
                uint[] addresses = [.. probes, .. expected.EdgeAddresses().Select(a => (uint)a)];
                var batched = new int[addresses.Length];
                lpm.Lookup(addresses.Select(a => new XdpStack.Stack.Wire.Ipv4Address(a)).ToArray(), batched);
                for (int i = 0; i < addresses.Length; i++)
                {
                    int want = expected.Lookup(addresses[i]);
                    Assert.Equal(want, lpm.Lookup(addresses[i]));
                    Assert.Equal(want, batched[i]);
                }
            }
        }, iter: 60);
    }

    [Fact]
    public void Groups_SameCountAsTheFlatTable()
    {
        var persistent = new PersistentIpv4LpmBuilder();
        var flat = new Ipv4LpmBuilder(useHugePages: false);
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            uint prefix = 0xC612_0000u | (uint)random.Next(1 << 16);
            int length = random.Next(20, 33);
            if (random.Next(3) == 0)
            {
                Assert.Equal(flat.Remove(prefix, length), persistent.Remove(prefix, length));
            }
            else
            {
                persistent.Add(prefix, length, i);
                flat.Add(prefix, length, i);
            }
        }
        Assert.Equal(flat.Build().Tbl8GroupCount, persistent.Build().Tbl8GroupCount);
    }

    [Fact]
    public void Build_NoChangeSince_SameVersion()
    {
        var builder = new PersistentIpv4LpmBuilder();
        builder.Add(0xC612_0000u, 16, 1);
        PersistentIpv4Lpm first = builder.Build();
        Assert.Same(first, builder.Build());
        builder.Add(0xC612_0100u, 24, 2);
        PersistentIpv4Lpm second = builder.Build();
        Assert.NotSame(first, second);
        Assert.Equal(1, first.Lookup(0xC612_0101u));
        Assert.Equal(2, second.Lookup(0xC612_0101u));
    }

    [Fact]
    public void Change_AfterBuild_CopiesOnlyTheChunksItTouches()
    {
        var builder = new PersistentIpv4LpmBuilder();
        for (uint i = 0; i < 10_000; i++)
            builder.Add(0x0A00_0000u + (i << 8), 24, (int)i);
        builder.Build();
        // Settle the allocations of the first publication before measuring the second.
        builder.Add(0xC612_0001u, 32, 1);
        builder.Build();
        long allocated = AllocationWindow.Measure(() =>
        {
            builder.Add(0xC612_0102u, 32, 2);
            builder.Remove(0xC612_0001u, 32);
            builder.Build();
        });
        // The two chunk arrays (4,096 references and the tbl8 list), one tbl24 chunk, one tbl8 chunk: well under 1 MiB, where
        // a flat table would copy 64 MiB.
        Assert.InRange(allocated, 16 * 1024, 256 * 1024);
    }
}
