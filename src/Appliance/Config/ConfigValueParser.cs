using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using XdpStack.Stack;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

/// <summary>Parses the text forms the config uses (addresses, prefixes, MACs, listen endpoints), each with a reason on failure.</summary>
/// <remarks>The values come out as the stack's own types; the reasons become the message of a <see cref="ConfigError"/>.</remarks>
internal static class ConfigValueParser
{
    /// <summary>An IPv4 or IPv6 address without a prefix length.</summary>
    public static bool TryParseAddress(string text, out IpAddress address, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (Ipv4Address.TryParse(text, out Ipv4Address v4))
        {
            address = v4;
            return true;
        }
        if (Ipv6Address.TryParse(text, out Ipv6Address v6))
        {
            address = v6;
            return true;
        }
        address = default;
        error = text.Contains('/', StringComparison.Ordinal)
            ? $"'{text}' has a prefix length; write the address alone"
            : $"'{text}' is not an IPv4 or IPv6 address";
        return false;
    }

    /// <summary>An interface address with its prefix length (198.18.0.1/24): host bits are the point, and it must be unicast.</summary>
    public static bool TryParseInterfaceAddress(string text, out AddressWithPrefix result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        if (!TrySplit(text, "198.18.0.1/24", out IpAddress address, out int length, out error))
            return false;
        if (length == 0)
        {
            error = $"'{text}' has prefix length 0, which would put every address on this link";
            return false;
        }
        if (!IsUnicast(address))
        {
            error = $"'{text}': {address} is not a unicast address, so it cannot be an interface's address";
            return false;
        }
        result = new AddressWithPrefix(address, length);
        return true;
    }

    /// <summary>A route prefix (198.19.0.0/16): as in <c>ip route</c>, host bits set are an error.</summary>
    public static bool TryParsePrefix(string text, out IpPrefix prefix, [NotNullWhen(false)] out string? error)
    {
        prefix = default;
        if (!TrySplit(text, "198.19.0.0/16", out IpAddress address, out int length, out error))
            return false;
        // The address and length are known good here, so the stack's parser can only refuse host bits.
        bool valid;
        if (address.IsIpv4)
        {
            valid = Ipv4Prefix.TryParse(text, out Ipv4Prefix v4);
            prefix = new IpPrefix(v4);
        }
        else
        {
            valid = Ipv6Prefix.TryParse(text, out Ipv6Prefix v6);
            prefix = new IpPrefix(v6);
        }
        if (!valid)
        {
            error = $"'{text}' has host bits set (the prefix is {IpPrefix.Containing(address, length)})";
            return false;
        }
        return true;
    }

    /// <summary>A MAC address written as six hex pairs.</summary>
    public static bool TryParseMac(string text, out MacAddress mac, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (MacAddress.TryParse(text, out mac))
            return true;
        error = $"'{text}' is not a MAC address (six hex pairs such as 02:00:00:00:00:01)";
        return false;
    }

    /// <summary>ADDRESS:PORT for IPv4, [ADDRESS]:PORT for IPv6; the port is required.</summary>
    public static bool TryParseEndpoint(string text, [NotNullWhen(true)] out IPEndPoint? endpoint, [NotNullWhen(false)] out string? error)
    {
        error = null;
        endpoint = null;
        int colon = text.LastIndexOf(':');
        bool bracketed = text.StartsWith('[');
        // "::1:9469" parses as the IPv6 address ::1:9469 without a port, which is never what was meant.
        bool portGiven = colon > 0 && (bracketed ? text[colon - 1] == ']' : text.IndexOf(':', StringComparison.Ordinal) == colon);
        if (!portGiven || !IPEndPoint.TryParse(text, out IPEndPoint? parsed) || parsed.Port == 0)
        {
            error = $"'{text}' is not ADDRESS:PORT (such as 127.0.0.1:9469, or [::1]:9469 for IPv6) with a port from 1 to 65535";
            return false;
        }
        endpoint = parsed;
        return true;
    }

    public static bool IsUnicast(IpAddress address) =>
        address.IsIpv4 ? address.V4.IsUnicast && !address.V4.IsLoopback : address.V6.IsUnicast && !address.V6.IsLoopback;

    private static bool TrySplit(string text, string example, out IpAddress address, out int length, [NotNullWhen(false)] out string? error)
    {
        length = 0;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressText, out address, out error))
        {
            error = slash < 0 && !addressText.Contains(':', StringComparison.Ordinal) && !addressText.Contains('.', StringComparison.Ordinal)
                ? $"'{text}' is not an address with a prefix length, such as {example}"
                : $"'{addressText}' is not an IPv4 or IPv6 address";
            return false;
        }
        int max = address.BitLength;
        if (slash < 0)
        {
            error = $"'{text}' needs a prefix length, as in {text}/{(address.IsIpv4 ? 24 : 64)} (or /{max} for one address)";
            return false;
        }
        string digits = text[(slash + 1)..];
        if (digits.Length is 0 or > 3 || (digits.Length > 1 && digits[0] == '0')
            || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max)
        {
            error = $"'{text}': the prefix length must be a number from 0 to {max}";
            return false;
        }
        return true;
    }
}
