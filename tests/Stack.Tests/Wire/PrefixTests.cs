using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

public sealed class PrefixTests
{
    [Theory]
    [InlineData("198.18.0.0/15", "255.254.0.0")]
    [InlineData("0.0.0.0/0", "0.0.0.0")]
    [InlineData("198.18.0.1/32", "255.255.255.255")]
    [InlineData("198.18.128.0/17", "255.255.128.0")]
    public void Ipv4Parse_Valid_RoundTripsWithMask(string text, string mask)
    {
        Ipv4Prefix p = Ipv4Prefix.Parse(text);
        Assert.Equal(text, p.ToString());
        Assert.Equal(Ipv4Address.Parse(mask), p.Mask);
    }

    [Theory]
    [InlineData("198.18.0.1/15")]
    [InlineData("198.18.0.0/33")]
    [InlineData("198.18.0.0/")]
    [InlineData("198.18.0.0")]
    [InlineData("/15")]
    [InlineData("198.18.0.0/015")]
    [InlineData("198.18.0.0/-1")]
    [InlineData("198.18.0.0/1a")]
    [InlineData("198.18.0.0/15/1")]
    [InlineData("198.18.0/15")]
    public void Ipv4TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(Ipv4Prefix.TryParse(text, null, out _));
        Assert.Throws<FormatException>(() => Ipv4Prefix.Parse(text));
    }

    [Fact]
    public void Ipv4Contains_EdgeLengths()
    {
        Ipv4Prefix all = Ipv4Prefix.Parse("0.0.0.0/0");
        Assert.True(all.Contains(Ipv4Address.Broadcast));
        Assert.True(all.Contains(Ipv4Address.Any));
        Ipv4Prefix host = Ipv4Prefix.Parse("198.18.0.1/32");
        Assert.True(host.Contains(Ipv4Address.Parse("198.18.0.1")));
        Assert.False(host.Contains(Ipv4Address.Parse("198.18.0.0")));
        Assert.False(host.Contains(Ipv4Address.Parse("198.18.0.2")));
        Ipv4Prefix bench = Ipv4Prefix.Parse("198.18.0.0/15");
        Assert.True(bench.Contains(Ipv4Address.Parse("198.18.0.0")));
        Assert.True(bench.Contains(Ipv4Address.Parse("198.19.255.255")));
        Assert.False(bench.Contains(Ipv4Address.Parse("198.17.255.255")));
        Assert.False(bench.Contains(Ipv4Address.Parse("198.20.0.0")));
        Assert.Equal(Ipv4Address.Parse("198.19.255.255"), bench.LastAddress);
        Assert.True(bench.Contains(host));
        Assert.False(host.Contains(bench));
        Assert.True(all.Contains(bench));
    }

    [Fact]
    public void Ipv4Constructor_ValidatesAndContainingNormalizes()
    {
        Assert.Throws<ArgumentException>(() => new Ipv4Prefix(Ipv4Address.Parse("198.18.0.1"), 15));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ipv4Prefix(Ipv4Address.Any, 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ipv4Prefix.Containing(Ipv4Address.Any, -1));
        Assert.Equal(Ipv4Prefix.Parse("198.18.0.0/15"), Ipv4Prefix.Containing(Ipv4Address.Parse("198.19.3.4"), 15));
        Assert.Equal(Ipv4Prefix.Default, Ipv4Prefix.Containing(Ipv4Address.Parse("198.19.3.4"), 0));
    }

    [Fact]
    public void Ipv4Equality_AddressAndLength()
    {
        Ipv4Prefix a = Ipv4Prefix.Parse("198.18.0.0/15"), b = new(Ipv4Address.Parse("198.18.0.0"), 15);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != Ipv4Prefix.Parse("198.18.0.0/16"));
    }

    [Theory]
    [InlineData("2001:2::/48", "ffff:ffff:ffff::")]
    [InlineData("::/0", "::")]
    [InlineData("2001:2::1/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("2001:2:0:1::/64", "ffff:ffff:ffff:ffff::")]
    [InlineData("2001:2:0:1:8000::/65", "ffff:ffff:ffff:ffff:8000::")]
    [InlineData("fe80::/10", "ffc0::")]
    public void Ipv6Parse_Valid_RoundTripsWithMask(string text, string mask)
    {
        Ipv6Prefix p = Ipv6Prefix.Parse(text);
        Assert.Equal(text, p.ToString());
        Assert.Equal(Ipv6Address.Parse(mask), p.Mask);
    }

    [Theory]
    [InlineData("2001:2::1/48")]
    [InlineData("2001:2::/129")]
    [InlineData("2001:2::")]
    [InlineData("2001:2::/")]
    [InlineData("2001:2::/048")]
    [InlineData("2001:2:0:1:4000::/65")]
    [InlineData("2001:2:::/48")]
    public void Ipv6TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(Ipv6Prefix.TryParse(text, null, out _));
        Assert.Throws<FormatException>(() => Ipv6Prefix.Parse(text));
    }

    [Fact]
    public void Ipv6Contains_EdgeLengths()
    {
        Ipv6Prefix all = Ipv6Prefix.Parse("::/0");
        Assert.True(all.Contains(Ipv6Address.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        Ipv6Prefix host = Ipv6Prefix.Parse("2001:2::1/128");
        Assert.True(host.Contains(Ipv6Address.Parse("2001:2::1")));
        Assert.False(host.Contains(Ipv6Address.Parse("2001:2::")));
        Assert.False(host.Contains(Ipv6Address.Parse("2001:2::3")));
        Ipv6Prefix lab = Ipv6Prefix.Parse("2001:2::/48");
        Assert.True(lab.Contains(Ipv6Address.Parse("2001:2:0:ffff:ffff:ffff:ffff:ffff")));
        Assert.False(lab.Contains(Ipv6Address.Parse("2001:2:1::")));
        Assert.False(lab.Contains(Ipv6Address.Parse("2001:1:ffff::")));
        Ipv6Prefix half = Ipv6Prefix.Parse("2001:2:0:1::/64");
        Assert.True(half.Contains(Ipv6Address.Parse("2001:2:0:1:ffff::1")));
        Assert.False(half.Contains(Ipv6Address.Parse("2001:2:0:2::1")));
        Ipv6Prefix past = Ipv6Prefix.Parse("2001:2:0:1:8000::/65");
        Assert.True(past.Contains(Ipv6Address.Parse("2001:2:0:1:8000::1")));
        Assert.False(past.Contains(Ipv6Address.Parse("2001:2:0:1:7fff::1")));
        Assert.True(lab.Contains(half));
        Assert.False(half.Contains(lab));
    }

    [Fact]
    public void Ipv6Constructor_ValidatesAndContainingNormalizes()
    {
        Assert.Throws<ArgumentException>(() => new Ipv6Prefix(Ipv6Address.Parse("2001:2::1"), 48));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ipv6Prefix(Ipv6Address.Any, 129));
        Assert.Equal(Ipv6Prefix.Parse("2001:2::/48"), Ipv6Prefix.Containing(Ipv6Address.Parse("2001:2::1"), 48));
        Assert.Equal(Ipv6Prefix.Parse("2001:2:0:1:8000::/65"), Ipv6Prefix.Containing(Ipv6Address.Parse("2001:2:0:1:ffff::1"), 65));
        Assert.Equal(Ipv6Prefix.Default, Ipv6Prefix.Containing(Ipv6Address.Parse("2001:2::1"), 0));
    }

    [Fact]
    public void Ipv6Equality_AddressAndLength()
    {
        Ipv6Prefix a = Ipv6Prefix.Parse("2001:2::/48"), b = new(Ipv6Address.Parse("2001:2::"), 48);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != Ipv6Prefix.Parse("2001:2::/64"));
    }

    [Fact]
    public void ContainsEqualsCompareAndHash_AfterWarmUp_AllocateNothing()
    {
        Ipv4Prefix p4 = Ipv4Prefix.Parse("198.18.0.0/15");
        Ipv6Prefix p6 = Ipv6Prefix.Parse("2001:2::/48");
        var a4 = Ipv4Address.Parse("198.18.3.4");
        var a6 = Ipv6Address.Parse("2001:2::9");
        var m = MacAddress.Parse("02:00:00:00:00:01");

        // Equal values built another way: equality and hashing must look at the value, not the instance.
        var q4 = new Ipv4Prefix(new Ipv4Address(198, 18, 0, 0), 15);
        var q6 = new Ipv6Prefix(new Ipv6Address(0x2001_0002_0000_0000UL, 0), 48);
        var b6 = new Ipv6Address(0x2001_0002_0000_0000UL, 9);
        var n = new MacAddress(0x0200_0000_0001UL);
        int expectedHash = p4.GetHashCode() ^ p6.GetHashCode() ^ a6.GetHashCode() ^ m.GetHashCode();
        for (int round = 0; round < 2; round++)
        {
            // Round 0 warms up; only round 1 is measured.
            int hits = 0, sameHashes = 0, ordered = 0;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                hits += p4.Contains(a4) ? 1 : 0;
                hits += p6.Contains(a6) ? 1 : 0;
                hits += p4.Equals(q4) && p6 == q6 && a6.Equals(b6) && m == n ? 1 : 0;
                sameHashes += (q4.GetHashCode() ^ q6.GetHashCode() ^ b6.GetHashCode() ^ n.GetHashCode()) == expectedHash ? 1 : 0;
                ordered += a4.CompareTo(Ipv4Address.Broadcast) < 0 && a6.CompareTo(b6) == 0 && m.CompareTo(MacAddress.Broadcast) < 0 ? 1 : 0;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (round == 0)
                continue;
            Assert.Equal(3000, hits);
            Assert.Equal(1000, sameHashes);
            Assert.Equal(1000, ordered);
            Assert.Equal(0, allocated);
        }
    }
}
