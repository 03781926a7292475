using CsCheck;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Routing;

public class Ipv6LpmTests
{
    private static readonly UInt128 Benchmarking = (UInt128)0x2001_0002_0000_0000UL << 64;   // 2001:2::/48

    // Half the prefixes sit in 2001:2::/48 so that they overlap and share trie nodes.
    private static readonly Gen<UInt128> GenBase = Gen.Frequency(
        (1, Gen.Select(Gen.ULong, Gen.ULong, (h, l) => ((UInt128)h << 64) | l)),
        (1, Gen.Select(Gen.UShort, Gen.ULong, (h, l) => Benchmarking | ((UInt128)h << 64) | l)));

    private static readonly Gen<int> GenLength = Gen.Frequency(
        (4, Gen.Int[0, 128]), (1, Gen.Const(16)), (1, Gen.Const(17)), (1, Gen.Const(48)), (1, Gen.Const(64)),
        (1, Gen.Const(65)), (1, Gen.Const(128)), (1, Gen.Int[40, 72]));

    // Kind 0..5: add, 6..7: remove an existing rule, 8: remove a random prefix, 9: publish a snapshot.
    private static readonly Gen<(int Kind, UInt128 Prefix, int Length, int NextHop)> GenOp =
        Gen.Select(Gen.Int[0, 9], GenBase, GenLength, Gen.Int[0, Ipv6Lpm.MaxNextHop]);

    private static Ipv6Address Address(UInt128 value) => new((ulong)(value >> 64), (ulong)value);

    private static Ipv6Prefix Prefix(UInt128 value, int length) => Ipv6Prefix.Containing(Address(value), length);

    // On huge pages the nodes are copied into a pinned, advised array instead: the same answers either way.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lookup_RandomAddsAndRemoves_MatchesLinearReference(bool hugePages)
    {
        Gen.Select(GenOp.Array[1, 80], GenBase.Array[64]).Sample((ops, probes) =>
        {
            var builder = new Ipv6LpmBuilder(hugePages);
            var reference = new NaiveLpm(128);
            var snapshots = new List<(Ipv6Lpm Table, NaiveLpm Reference)>();
            foreach ((int kind, UInt128 prefix, int length, int nextHop) in ops)
            {
                switch (kind)
                {
                    case <= 5:
                        bool isNew = !builder.TryGetRule(Prefix(prefix, length), out _);
                        Assert.Equal(isNew, builder.Add(Prefix(prefix, length), nextHop));
                        reference.Add(prefix, length, nextHop);
                        break;
                    case <= 7 when reference.Count > 0:
                        (UInt128 p, int l) = reference.Keys[nextHop % reference.Count];
                        Assert.True(builder.Remove(Prefix(p, l)));
                        reference.Remove(p, l);
                        break;
                    case 8:
                        Assert.Equal(reference.Remove(prefix, length), builder.Remove(Prefix(prefix, length)));
                        break;
                    case 9:
                        snapshots.Add((builder.Build(), reference.Clone()));
                        break;
                }
            }
            snapshots.Add((builder.Build(), reference));
            Assert.Equal(reference.Count, builder.Count);
            foreach ((Ipv6Lpm table, NaiveLpm expected) in snapshots)
            {
                Assert.Equal(expected.Count, table.RuleCount);
                Ipv6Address[] addresses = [.. probes.Select(Address), .. expected.EdgeAddresses().Select(Address)];
                var batched = new int[addresses.Length];
                table.Lookup(addresses, batched);
                for (int i = 0; i < addresses.Length; i++)
                {
                    int want = expected.Lookup(((UInt128)addresses[i].High << 64) | addresses[i].Low);
                    Assert.Equal(want, table.Lookup(addresses[i]));
                    Assert.Equal(want, batched[i]);
                }
            }
        }, iter: 200);
    }

    [Fact]
    public void Lookup_NestedPrefixes_PickLongest()
    {
        var builder = new Ipv6LpmBuilder();
        builder.Add(Ipv6Prefix.Parse("::/0"), 1);
        builder.Add(Ipv6Prefix.Parse("2001:2::/48"), 2);
        builder.Add(Ipv6Prefix.Parse("2001:2:0:1::/64"), 3);
        builder.Add(Ipv6Prefix.Parse("2001:2:0:1::1/128"), 4);
        Ipv6Lpm table = builder.Build();
        Assert.Equal(1, table.Lookup(Ipv6Address.Parse("2001:3::1")));
        Assert.Equal(2, table.Lookup(Ipv6Address.Parse("2001:2:0:2::1")));
        Assert.Equal(3, table.Lookup(Ipv6Address.Parse("2001:2:0:1::2")));
        Assert.Equal(4, table.Lookup(Ipv6Address.Parse("2001:2:0:1::1")));
        Assert.Equal(3, table.Lookup(Ipv6Address.Parse("2001:2:0:1:ffff:ffff:ffff:ffff")));
        Assert.True(builder.Remove(Ipv6Prefix.Parse("2001:2:0:1::/64")));
        Ipv6Lpm after = builder.Build();
        Assert.Equal(2, after.Lookup(Ipv6Address.Parse("2001:2:0:1::2")));
        Assert.Equal(4, after.Lookup(Ipv6Address.Parse("2001:2:0:1::1")));
        Assert.Equal(3, table.Lookup(Ipv6Address.Parse("2001:2:0:1::2")));
    }

    [Fact]
    public void Lookup_SteadyState_AllocatesNothing()
    {
        var builder = new Ipv6LpmBuilder();
        builder.Add(Ipv6Prefix.Parse("2001:2::/48"), 2);
        builder.Add(Ipv6Prefix.Parse("2001:2::1/128"), 3);
        Ipv6Lpm table = builder.Build();
        Ipv6Address a = Ipv6Address.Parse("2001:2::1");
        Ipv6Address[] batch = [a, Ipv6Address.Parse("2001:2::2"), Ipv6Address.Parse("2001:3::")];
        var results = new int[3];
        long sum = table.Lookup(a);
        table.Lookup(batch, results);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            sum += table.Lookup(a);
            table.Lookup(batch, results);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(303, sum);
        Assert.Equal([3, 2, -1], results);
    }
}
