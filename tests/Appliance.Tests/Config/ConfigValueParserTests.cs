using XdpStack.Appliance.Config;
using XdpStack.Stack;

namespace XdpStack.Appliance.Tests.Config;

public sealed class ConfigValueParserTests
{
    [Theory]
    [InlineData("198.19.0.0/16", "198.19.0.0/16", true)]
    [InlineData("0.0.0.0/0", "0.0.0.0/0", true)]
    [InlineData("198.18.0.1/32", "198.18.0.1/32", true)]
    [InlineData("2001:2::/48", "2001:2::/48", false)]
    [InlineData("::/0", "::/0", false)]
    public void TryParsePrefix_Network_Parses(string text, string expected, bool ipv4)
    {
        Assert.True(ConfigValueParser.TryParsePrefix(text, out IpPrefix prefix, out string? error), error);

        Assert.Equal(expected, prefix.ToString());
        Assert.Equal(ipv4, prefix.IsIpv4);
    }

    [Theory]
    [InlineData("198.19.0.1/16", "'198.19.0.1/16' has host bits set (the prefix is 198.19.0.0/16)")]
    [InlineData("2001:2::1/48", "'2001:2::1/48' has host bits set (the prefix is 2001:2::/48)")]
    [InlineData("198.19.0.0/33", "'198.19.0.0/33': the prefix length must be a number from 0 to 32")]
    [InlineData("198.19.0.0/016", "'198.19.0.0/016': the prefix length must be a number from 0 to 32")]
    [InlineData("198.19.0.0/", "'198.19.0.0/': the prefix length must be a number from 0 to 32")]
    [InlineData("default", "'default' is not an address with a prefix length, such as 198.19.0.0/16")]
    [InlineData("198.19.0/16", "'198.19.0' is not an IPv4 or IPv6 address")]
    public void TryParsePrefix_Invalid_SaysWhy(string text, string expected)
    {
        Assert.False(ConfigValueParser.TryParsePrefix(text, out _, out string? error));

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("127.0.0.1:9469", "127.0.0.1:9469")]
    [InlineData("0.0.0.0:80", "0.0.0.0:80")]
    [InlineData("[::1]:9469", "[::1]:9469")]
    [InlineData("[2001:2::1]:1", "[2001:2::1]:1")]
    public void TryParseEndpoint_AddressAndPort_Parses(string text, string expected)
    {
        Assert.True(ConfigValueParser.TryParseEndpoint(text, out var endpoint, out string? error), error);

        Assert.Equal(expected, endpoint.ToString());
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("::1:9469")]
    [InlineData("[::1]")]
    [InlineData("localhost:9469")]
    public void TryParseEndpoint_NoUsablePort_Fails(string text)
    {
        Assert.False(ConfigValueParser.TryParseEndpoint(text, out _, out string? error));

        Assert.StartsWith($"'{text}' is not ADDRESS:PORT", error);
    }

    [Theory]
    [InlineData("198.18.0.1/24", true)]
    [InlineData("fe80::1/64", true)]
    [InlineData("0.0.0.0/8", false)]
    [InlineData("255.255.255.255/32", false)]
    [InlineData("127.0.0.1/8", false)]
    [InlineData("ff02::1/64", false)]
    [InlineData("::1/128", false)]
    [InlineData("198.18.0.1/0", false)]
    public void TryParseInterfaceAddress_OnlyUnicastWithALength(string text, bool valid)
    {
        Assert.Equal(valid, ConfigValueParser.TryParseInterfaceAddress(text, out _, out _));
    }

    [Theory]
    [InlineData("adresses", "addresses")]
    [InlineData("Name", "name")]
    [InlineData("busy-poll", "busy_poll")]
    [InlineData("mtv", "mtu")]
    [InlineData("qeueus", "queues")]
    [InlineData("colour", null)]
    [InlineData("xyz", null)]
    public void KeySuggestion_Closest_OnlyPlausibleTypos(string typo, string? expected)
    {
        string[] known = ["name", "queues", "addresses", "mac", "mtu", "forwarding", "busy_poll"];

        Assert.Equal(expected, KeySuggestion.Closest(typo, known));
    }
}
