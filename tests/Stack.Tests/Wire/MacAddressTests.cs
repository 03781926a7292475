using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

public sealed class MacAddressTests
{
    [Theory]
    [InlineData("02:00:00:00:00:01", 0x0200_0000_0001UL)]
    [InlineData("ff:ff:ff:ff:ff:ff", 0xFFFF_FFFF_FFFFUL)]
    [InlineData("00:00:00:00:00:00", 0UL)]
    [InlineData("33:33:ff:00:00:01", 0x3333_FF00_0001UL)]
    public void Parse_Canonical_RoundTrips(string text, ulong value)
    {
        MacAddress mac = MacAddress.Parse(text);
        Assert.Equal(value, mac.Value);
        Assert.Equal(text, mac.ToString());
    }

    [Theory]
    [InlineData("02-00-00-AB-cd-01", "02:00:00:ab:cd:01")]
    [InlineData("02:00:00:AB:CD:01", "02:00:00:ab:cd:01")]
    public void Parse_UpperCaseOrHyphens_FormatsLowerWithColons(string text, string canonical) =>
        Assert.Equal(canonical, MacAddress.Parse(text).ToString());

    [Theory]
    [InlineData("")]
    [InlineData("02:00:00:00:00")]
    [InlineData("02:00:00:00:00:01:")]
    [InlineData("02:00:00:00:00:0g")]
    [InlineData("02:00-00:00:00:01")]
    [InlineData("2:00:00:00:00:001")]
    [InlineData("02.00.00.00.00.01")]
    [InlineData("02:00:00:00:00:01 ")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(MacAddress.TryParse(text, null, out _));
        Assert.Throws<FormatException>(() => MacAddress.Parse(text));
    }

    [Fact]
    public void Bytes_CopyToAndRead_RoundTripInWireOrder()
    {
        byte[] wire = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
        var mac = new MacAddress(wire);
        Assert.Equal("02:11:22:33:44:55", mac.ToString());
        byte[] back = new byte[8];
        Array.Fill(back, (byte)0xA5);
        mac.CopyTo(back);
        Assert.Equal([0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0xA5, 0xA5], back);
        Assert.Throws<IndexOutOfRangeException>(() => mac.CopyTo(new byte[5]));
    }

    [Fact]
    public void Flags_BroadcastMulticastUnicast_AreClassified()
    {
        Assert.True(MacAddress.Broadcast.IsBroadcast);
        Assert.True(MacAddress.Broadcast.IsMulticast);
        Assert.True(MacAddress.Parse("01:00:5e:00:00:01").IsMulticast);
        Assert.False(MacAddress.Parse("01:00:5e:00:00:01").IsBroadcast);
        MacAddress local = MacAddress.Parse("02:00:00:00:00:01");
        Assert.True(local.IsUnicast);
        Assert.True(local.IsLocallyAdministered);
        Assert.False(MacAddress.Parse("00:1b:21:00:00:01").IsLocallyAdministered);
        Assert.True(MacAddress.Zero.IsZero);
    }

    [Fact]
    public void FromMulticast_MapsGroupsPerRfc1112AndRfc2464()
    {
        Assert.Equal("01:00:5e:7f:00:fb", MacAddress.FromIpv4Multicast(Ipv4Address.Parse("239.255.0.251")).ToString());
        Assert.Equal("33:33:ff:00:00:01", MacAddress.FromIpv6Multicast(Ipv6Address.Parse("2001:2::1").SolicitedNodeMulticast).ToString());
    }

    [Fact]
    public void Equality_SameBytes_EqualAndSameHash()
    {
        MacAddress a = MacAddress.Parse("02:00:00:00:00:01"), b = new([2, 0, 0, 0, 0, 1]);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, MacAddress.Parse("02:00:00:00:00:02"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MacAddress(1UL << 48));
    }

    [Fact]
    public void TryFormat_ShortBuffer_ReturnsFalse() =>
        Assert.False(MacAddress.Broadcast.TryFormat(new char[16], out _));
}
