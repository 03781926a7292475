using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Wire;

/// <summary>An IPv4 address held as a host-order <see cref="uint"/>, so masks and comparisons are plain integer operations.</summary>
/// <remarks>
/// <see cref="Value"/> is host order: 198.18.0.1 is 0xC6120001 on every machine. <see cref="Read"/> and
/// <see cref="CopyTo"/> convert from and to the big-endian wire form. Text is strict dotted-quad
/// (four decimal octets, no leading zeros, as glibc's inet_pton(3) accepts).
/// </remarks>
public readonly struct Ipv4Address : IEquatable<Ipv4Address>, IComparable<Ipv4Address>, ISpanFormattable, ISpanParsable<Ipv4Address>
{
    /// <summary>The length of an IPv4 address in octets.</summary>
    public const int Length = 4;

    /// <summary>The longest text form, "255.255.255.255".</summary>
    public const int MaxTextLength = 15;

    public Ipv4Address(uint value) => Value = value;

    public Ipv4Address(byte a, byte b, byte c, byte d) => Value = ((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d;

    /// <summary>The address in host byte order.</summary>
    public uint Value { get; }

    /// <summary>0.0.0.0.</summary>
    public static Ipv4Address Any => default;

    /// <summary>255.255.255.255, the limited broadcast address (RFC 919).</summary>
    public static Ipv4Address Broadcast => new(0xFFFF_FFFF);

    /// <summary>127.0.0.1.</summary>
    public static Ipv4Address Loopback => new(0x7F00_0001);

    public bool IsUnspecified => Value == 0;

    public bool IsBroadcast => Value == 0xFFFF_FFFF;

    /// <summary>224.0.0.0/4 (RFC 5771).</summary>
    public bool IsMulticast => (Value & 0xF000_0000) == 0xE000_0000;

    /// <summary>224.0.0.0/24, the Local Network Control Block, never forwarded (RFC 5771 §4): OSPF, VRRP, RIP, all-routers.</summary>
    public bool IsLocalNetworkControl => (Value & 0xFFFF_FF00) == 0xE000_0000;

    /// <summary>127.0.0.0/8 (RFC 1122 §3.2.1.3).</summary>
    public bool IsLoopback => (Value & 0xFF00_0000) == 0x7F00_0000;

    /// <summary>169.254.0.0/16 (RFC 3927).</summary>
    public bool IsLinkLocal => (Value & 0xFFFF_0000) == 0xA9FE_0000;

    /// <summary>Neither unspecified, broadcast nor multicast: an address a host can have.</summary>
    public bool IsUnicast => Value != 0 && Value != 0xFFFF_FFFF && !IsMulticast;

    /// <summary>Reads four octets in network order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Ipv4Address Read(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt32BigEndian(bytes));

    /// <summary>Writes the four octets in network order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyTo(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    public bool Equals(Ipv4Address other) => Value == other.Value;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Ipv4Address other && Value == other.Value;

    public override int GetHashCode() => (int)Value;

    public int CompareTo(Ipv4Address other) => Value.CompareTo(other.Value);

    public static bool operator ==(Ipv4Address left, Ipv4Address right) => left.Value == right.Value;

    public static bool operator !=(Ipv4Address left, Ipv4Address right) => left.Value != right.Value;

    public override string ToString()
    {
        Span<char> buffer = stackalloc char[MaxTextLength];
        TryFormat(buffer, out int written);
        return new string(buffer[..written]);
    }

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        for (int i = 0; i < Length; i++)
        {
            if (i > 0)
            {
                if (charsWritten >= destination.Length)
                    return Fail(out charsWritten);
                destination[charsWritten++] = '.';
            }
            uint octet = (Value >> (24 - (8 * i))) & 0xFF;
            if (!octet.TryFormat(destination[charsWritten..], out int n, default, System.Globalization.CultureInfo.InvariantCulture))
                return Fail(out charsWritten);
            charsWritten += n;
        }
        return true;
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    public static Ipv4Address Parse(string s) => Parse(s.AsSpan());

    public static Ipv4Address Parse(ReadOnlySpan<char> s) =>
        TryParse(s, out Ipv4Address result) ? result : throw new FormatException($"'{s}' is not an IPv4 address");

    public static Ipv4Address Parse(string s, IFormatProvider? provider) => Parse(s.AsSpan());

    public static Ipv4Address Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out Ipv4Address result) =>
        TryParse(s.AsSpan(), out result);

    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out Ipv4Address result) => TryParse(s, out result);

    /// <summary>Parses strict dotted-quad text; the whole span must be the address.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out Ipv4Address result)
    {
        if (TryParsePrefix(s, out result, out int consumed) && consumed == s.Length)
            return true;
        result = default;
        return false;
    }

    /// <summary>Parses a dotted quad at the start of <paramref name="s"/> and says how many characters it took (used for IPv6's embedded form).</summary>
    internal static bool TryParsePrefix(ReadOnlySpan<char> s, out Ipv4Address result, out int consumed)
    {
        result = default;
        consumed = 0;
        uint value = 0;
        int at = 0;
        for (int part = 0; part < Length; part++)
        {
            if (part > 0)
            {
                if (at >= s.Length || s[at] != '.')
                    return false;
                at++;
            }
            int start = at;
            uint octet = 0;
            while (at < s.Length && (uint)(s[at] - '0') <= 9 && at - start < 3)
                octet = (octet * 10) + (uint)(s[at++] - '0');
            int digits = at - start;
            // "01" is rejected: some parsers read a leading zero as octal, so it is ambiguous.
            if (digits == 0 || octet > 255 || (digits > 1 && s[start] == '0'))
                return false;
            value = (value << 8) | octet;
        }
        if (at < s.Length && (uint)(s[at] - '0') <= 9)
            return false;
        result = new Ipv4Address(value);
        consumed = at;
        return true;
    }

    private static bool Fail(out int charsWritten)
    {
        charsWritten = 0;
        return false;
    }
}
