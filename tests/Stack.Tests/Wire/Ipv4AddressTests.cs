using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

public sealed class Ipv4AddressTests
{
    [Theory]
    [InlineData("198.18.0.1", 0xC612_0001u)]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("255.255.255.255", 0xFFFF_FFFFu)]
    [InlineData("198.19.3.40", 0xC613_0328u)]
    public void Parse_Valid_RoundTrips(string text, uint value)
    {
        Ipv4Address a = Ipv4Address.Parse(text);
        Assert.Equal(value, a.Value);
        Assert.Equal(text, a.ToString());
        Assert.Equal(a, Ipv4Address.Parse(text, null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("198.18.0")]
    [InlineData("198.18.0.1.")]
    [InlineData("198.18.0.1.2")]
    [InlineData("198.18.0.256")]
    [InlineData("198.18.0.01")]
    [InlineData("198.18..1")]
    [InlineData(".198.18.0.1")]
    [InlineData("198.18.0.1 ")]
    [InlineData("198.18.0.1000")]
    [InlineData("198.18.0.x")]
    [InlineData("-1.0.0.0")]
    [InlineData("3221225985")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(Ipv4Address.TryParse(text, null, out _));
        Assert.Throws<FormatException>(() => Ipv4Address.Parse(text));
    }

    [Fact]
    public void Bytes_ReadAndCopyTo_UseNetworkOrder()
    {
        byte[] wire = [198, 18, 0, 1];
        Ipv4Address a = Ipv4Address.Read(wire);
        Assert.Equal(new Ipv4Address(198, 18, 0, 1), a);
        Span<byte> back = stackalloc byte[4];
        a.CopyTo(back);
        Assert.Equal(wire, back.ToArray());
    }

    [Fact]
    public void Flags_WellKnownAddresses_AreClassified()
    {
        Assert.True(Ipv4Address.Any.IsUnspecified);
        Assert.True(Ipv4Address.Broadcast.IsBroadcast);
        Assert.True(Ipv4Address.Parse("224.0.0.1").IsMulticast);
        Assert.True(Ipv4Address.Parse("239.255.255.255").IsMulticast);
        Assert.False(Ipv4Address.Parse("240.0.0.1").IsMulticast);
        Assert.False(Ipv4Address.Parse("223.255.255.255").IsMulticast);
        Assert.True(Ipv4Address.Parse("127.0.0.1").IsLoopback);
        Assert.True(Ipv4Address.Loopback.IsLoopback);
        Assert.False(Ipv4Address.Parse("128.0.0.1").IsLoopback);
        Assert.True(Ipv4Address.Parse("169.254.1.1").IsLinkLocal);
        Assert.True(Ipv4Address.Parse("198.18.0.1").IsUnicast);
        Assert.False(Ipv4Address.Broadcast.IsUnicast);
    }

    [Fact]
    public void Equality_AndOrdering_FollowValue()
    {
        Ipv4Address a = Ipv4Address.Parse("198.18.0.1"), b = new(0xC612_0001);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a.CompareTo(Ipv4Address.Parse("198.18.0.2")) < 0);
        Assert.True(a != Ipv4Address.Parse("198.19.0.1"));
    }

    [Fact]
    public void TryFormat_ShortBuffer_ReturnsFalse()
    {
        Assert.False(Ipv4Address.Parse("198.18.100.200").TryFormat(new char[13], out _));
        Assert.True(Ipv4Address.Parse("198.18.100.200").TryFormat(new char[14], out int n));
        Assert.Equal(14, n);
    }
}
