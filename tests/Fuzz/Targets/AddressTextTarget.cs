using System.Net;
using System.Text;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz.Targets;

/// <summary>The address and prefix text parsers (config files, the CLI): round trip through ToString, and .NET's IPAddress as the oracle.</summary>
internal sealed class AddressTextTarget : FuzzTarget
{
    public override string Name => "address-text";

    public override string Covers => "Ipv4/Ipv6Address, Ipv4/Ipv6Prefix, MacAddress TryParse: ToString round trip, IPAddress agrees";

    public override int MaxLength => 128;

    public override void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        if (Ipv4Address.TryParse(text, out Ipv4Address v4))
        {
            FuzzCheckException.That(Ipv4Address.Parse(v4.ToString()) == v4, $"'{text}' -> {v4} does not round-trip");
            FuzzCheckException.That(IPAddress.TryParse(text, out IPAddress? ip) && ip.GetAddressBytes().AsSpan().SequenceEqual(Bytes(v4)),
                $"'{text}' accepted as {v4}, which IPAddress does not read the same");
        }
        if (Ipv6Address.TryParse(text, out Ipv6Address v6))
        {
            FuzzCheckException.That(Ipv6Address.Parse(v6.ToString()) == v6, $"'{text}' -> {v6} does not round-trip");
            FuzzCheckException.That(IPAddress.TryParse(text, out IPAddress? ip) && ip.GetAddressBytes().AsSpan().SequenceEqual(Bytes(v6)),
                $"'{text}' accepted as {v6}, which IPAddress does not read the same");
        }
        if (Ipv4Prefix.TryParse(text, out Ipv4Prefix p4))
            FuzzCheckException.That(Ipv4Prefix.Parse(p4.ToString()) == p4, $"'{text}' -> {p4} does not round-trip");
        if (Ipv6Prefix.TryParse(text, out Ipv6Prefix p6))
            FuzzCheckException.That(Ipv6Prefix.Parse(p6.ToString()) == p6, $"'{text}' -> {p6} does not round-trip");
        if (MacAddress.TryParse(text, out MacAddress mac))
            FuzzCheckException.That(MacAddress.Parse(mac.ToString()) == mac, $"'{text}' -> {mac} does not round-trip");
    }

    private static byte[] Bytes(Ipv4Address address)
    {
        byte[] bytes = new byte[4];
        address.CopyTo(bytes);
        return bytes;
    }

    private static byte[] Bytes(Ipv6Address address)
    {
        byte[] bytes = new byte[16];
        address.CopyTo(bytes);
        return bytes;
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) =>
        new[] { "198.18.0.1", "0.0.0.0", "255.255.255.255", "2001:2::1", "::", "::ffff:198.18.0.1", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8",
            "198.18.0.0/15", "2001:2::/48", "::/0", "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff" }
        .Select(Encoding.UTF8.GetBytes);
}
