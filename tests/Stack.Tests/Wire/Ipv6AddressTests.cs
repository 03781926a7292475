using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

public sealed class Ipv6AddressTests
{
    [Theory]
    [InlineData("2001:2::1", 0x2001_0002_0000_0000UL, 1UL)]
    [InlineData("::", 0UL, 0UL)]
    [InlineData("::1", 0UL, 1UL)]
    [InlineData("fe80::1", 0xFE80_0000_0000_0000UL, 1UL)]
    [InlineData("2001:db8::1:0:0:1", 0x2001_0DB8_0000_0000UL, 0x0001_0000_0000_0001UL)]
    [InlineData("2001:db8:0:1:1:1:1:1", 0x2001_0DB8_0000_0001UL, 0x0001_0001_0001_0001UL)]
    [InlineData("ff02::1:ff00:1", 0xFF02_0000_0000_0000UL, 0x0000_0001_FF00_0001UL)]
    [InlineData("1::", 0x0001_0000_0000_0000UL, 0UL)]
    [InlineData("1:2:3:4:5:6:7:8", 0x0001_0002_0003_0004UL, 0x0005_0006_0007_0008UL)]
    [InlineData("::ffff:198.18.0.1", 0UL, 0x0000_FFFF_C612_0001UL)]
    [InlineData("2001:2:0:0:1::", 0x2001_0002_0000_0000UL, 0x0001_0000_0000_0000UL)]
    public void Parse_Canonical_RoundTrips(string text, ulong high, ulong low)
    {
        Ipv6Address a = Ipv6Address.Parse(text);
        Assert.Equal(high, a.High);
        Assert.Equal(low, a.Low);
        Assert.Equal(text, a.ToString());
    }

    // RFC 5952 §4: leading zeros dropped, lower case, longest (then first) zero run compressed,
    // a single zero group never compressed.
    [Theory]
    [InlineData("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1")]
    [InlineData("2001:DB8::1", "2001:db8::1")]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    [InlineData("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1")]
    [InlineData("2001:db8::0:1", "2001:db8::1")]
    [InlineData("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1")]
    [InlineData("0:0:0:0:0:0:0:0", "::")]
    [InlineData("::198.18.0.1", "::c612:1")]
    [InlineData("1:2:3:4:5:6:198.18.0.1", "1:2:3:4:5:6:c612:1")]
    [InlineData("::FFFF:c612:0001", "::ffff:198.18.0.1")]
    [InlineData("1:0:0:2:0:0:0:3", "1:0:0:2::3")]
    public void Format_NonCanonicalInput_IsRfc5952(string text, string canonical) =>
        Assert.Equal(canonical, Ipv6Address.Parse(text).ToString());

    [Theory]
    [InlineData("")]
    [InlineData(":")]
    [InlineData(":::")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7:8::")]
    [InlineData("::1:2:3:4:5:6:7:8")]
    [InlineData("1::2::3")]
    [InlineData(":1::2")]
    [InlineData("1::2:")]
    [InlineData("1:")]
    [InlineData("12345::")]
    [InlineData("g::1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("[2001:2::1]")]
    [InlineData("2001:2::1/64")]
    [InlineData("::ffff:198.18.0.256")]
    [InlineData("::ffff:198.18.0")]
    [InlineData("::198.18.0.1:1")]
    [InlineData("1:2:3:4:5:6:7:198.18.0.1")]
    [InlineData("198.18.0.1")]
    [InlineData("::ffff:1a.2.3.4")]
    [InlineData("1:2:3:4:5:6:7:8 ")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(Ipv6Address.TryParse(text, null, out _));
        Assert.Throws<FormatException>(() => Ipv6Address.Parse(text));
    }

    [Fact]
    public void Parse_AgreesWithSystemNet_OnRandomAddresses()
    {
        var random = new Random(5952);
        byte[] bytes = new byte[16];
        for (int i = 0; i < 2000; i++)
        {
            random.NextBytes(bytes);
            // Zero some groups so that "::" runs of every length appear.
            for (int g = 0; g < 8; g++)
                if (random.Next(3) == 0)
                    bytes[2 * g] = bytes[(2 * g) + 1] = 0;
            var system = new System.Net.IPAddress(bytes);
            Ipv6Address ours = Ipv6Address.Read(bytes);
            Assert.Equal(ours, Ipv6Address.Parse(system.ToString()));
            Assert.Equal(ours, Ipv6Address.Parse(ours.ToString()));
            if (!system.IsIPv4MappedToIPv6 && !IsIpv4Compatible(bytes))
                Assert.Equal(system.ToString(), ours.ToString());
        }
    }

    // System.Net writes ::a.b.c.d for these; RFC 5952 §5 asks for mixed notation only for mapped addresses.
    private static bool IsIpv4Compatible(byte[] b) => b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0;

    [Fact]
    public void Bytes_ReadAndCopyTo_UseNetworkOrder()
    {
        byte[] wire = [0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        Ipv6Address a = Ipv6Address.Read(wire);
        Assert.Equal(Ipv6Address.Parse("2001:2::1"), a);
        byte[] back = new byte[16];
        a.CopyTo(back);
        Assert.Equal(wire, back);
        Assert.Equal(0x2001, a.GetGroup(0));
        Assert.Equal(1, a.GetGroup(7));
    }

    [Fact]
    public void Flags_WellKnownAddresses_AreClassified()
    {
        Assert.True(Ipv6Address.Any.IsUnspecified);
        Assert.True(Ipv6Address.Loopback.IsLoopback);
        Assert.False(Ipv6Address.Parse("::2").IsLoopback);
        Assert.True(Ipv6Address.Parse("fe80::1").IsLinkLocal);
        Assert.True(Ipv6Address.Parse("febf::1").IsLinkLocal);
        Assert.False(Ipv6Address.Parse("fec0::1").IsLinkLocal);
        Assert.True(Ipv6Address.AllNodes.IsMulticast);
        Assert.True(Ipv6Address.AllNodes.IsLinkLocalMulticast);
        Assert.False(Ipv6Address.Parse("ff05::2").IsLinkLocalMulticast);
        Assert.False(Ipv6Address.Parse("fe80::1").IsMulticast);
        Assert.True(Ipv6Address.Parse("::ffff:198.18.0.1").IsIpv4Mapped);
        Assert.Equal(Ipv4Address.Parse("198.18.0.1"), Ipv6Address.Parse("::ffff:198.18.0.1").EmbeddedIpv4);
        Assert.Equal(Ipv6Address.Parse("::ffff:198.18.0.1"), Ipv6Address.MapFromIpv4(Ipv4Address.Parse("198.18.0.1")));
        Assert.True(Ipv6Address.Parse("2001:2::1").IsUnicast);
    }

    [Theory]
    [InlineData("02:00:00:00:00:01", "fe80::ff:fe00:1")]
    [InlineData("00:1b:21:3a:4b:5c", "fe80::21b:21ff:fe3a:4b5c")]
    [InlineData("ff:ff:ff:ff:ff:ff", "fe80::fdff:ffff:feff:ffff")]
    public void LinkLocalFromMac_ModifiedEui64(string mac, string expected) =>
        Assert.Equal(Ipv6Address.Parse(expected), Ipv6Address.LinkLocalFromMac(MacAddress.Parse(mac)));

    [Fact]
    public void SolicitedNodeMulticast_TakesLow24Bits()
    {
        Ipv6Address a = Ipv6Address.Parse("2001:2::12:3456:789a");
        Assert.Equal(Ipv6Address.Parse("ff02::1:ff56:789a"), a.SolicitedNodeMulticast);
        Assert.True(a.SolicitedNodeMulticast.IsSolicitedNodeMulticast);
        Assert.False(Ipv6Address.AllNodes.IsSolicitedNodeMulticast);
    }

    [Fact]
    public void Equality_AndOrdering_UseBothHalves()
    {
        Ipv6Address a = Ipv6Address.Parse("2001:2::1"), b = new(0x2001_0002_0000_0000UL, 1);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != Ipv6Address.Parse("2001:2::2"));
        Assert.True(a != Ipv6Address.Parse("2001:3::1"));
        Assert.True(a.CompareTo(Ipv6Address.Parse("2001:2::2")) < 0);
        Assert.True(a.CompareTo(Ipv6Address.Parse("2001:1::ffff")) > 0);
    }

    [Fact]
    public void TryFormat_ShortBuffer_ReturnsFalse()
    {
        Ipv6Address a = Ipv6Address.Parse("2001:db8:1:2:3:4:5:6");
        Assert.False(a.TryFormat(new char[19], out _));
        Assert.True(a.TryFormat(new char[20], out int n));
        Assert.Equal(20, n);
        Assert.False(Ipv6Address.Parse("::ffff:198.18.0.1").TryFormat(new char[10], out _));
    }
}
