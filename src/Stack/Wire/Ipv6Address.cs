using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Wire;

/// <summary>An IPv6 address held as two host-order 64-bit halves, so masks and comparisons are integer operations.</summary>
/// <remarks>
/// <see cref="High"/> holds the first eight wire octets (2001:0002:0000:0000 of 2001:2::1), most significant
/// first; <see cref="Low"/> the last eight. Formatting follows RFC 5952 §4 (lower case, no leading zeros,
/// the longest run of two or more zero groups as "::", the first on a tie) and writes IPv4-mapped addresses
/// in mixed notation (RFC 5952 §5). Parsing takes RFC 4291 §2.2 text: "::" and an embedded dotted quad.
/// </remarks>
public readonly struct Ipv6Address : IEquatable<Ipv6Address>, IComparable<Ipv6Address>, ISpanFormattable, ISpanParsable<Ipv6Address>
{
    /// <summary>The length of an IPv6 address in octets.</summary>
    public const int Length = 16;

    /// <summary>The longest text <see cref="TryParse(ReadOnlySpan{char}, out Ipv6Address)"/> accepts (six groups plus a dotted quad).</summary>
    public const int MaxTextLength = 45;

    private const ulong SolicitedNodeHigh = 0xFF02_0000_0000_0000UL;
    private const ulong SolicitedNodeLow = 0x0000_0001_FF00_0000UL;

    public Ipv6Address(ulong high, ulong low)
    {
        High = high;
        Low = low;
    }

    /// <summary>Reads sixteen octets in network order.</summary>
    public Ipv6Address(ReadOnlySpan<byte> bytes)
    {
        Low = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        High = BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    /// <summary>The first 64 bits (the routing prefix and subnet id, usually).</summary>
    public ulong High { get; }

    /// <summary>The last 64 bits (the interface identifier, usually).</summary>
    public ulong Low { get; }

    /// <summary>::, the unspecified address.</summary>
    public static Ipv6Address Any => default;

    /// <summary>::1.</summary>
    public static Ipv6Address Loopback => new(0, 1);

    /// <summary>ff02::1, all nodes on the link (RFC 4291 §2.7.1).</summary>
    public static Ipv6Address AllNodes => new(0xFF02_0000_0000_0000UL, 1);

    /// <summary>ff02::2, all routers on the link (RFC 4291 §2.7.1).</summary>
    public static Ipv6Address AllRouters => new(0xFF02_0000_0000_0000UL, 2);

    public bool IsUnspecified => (High | Low) == 0;

    public bool IsLoopback => High == 0 && Low == 1;

    /// <summary>ff00::/8 (RFC 4291 §2.7).</summary>
    public bool IsMulticast => (High >> 56) == 0xFF;

    /// <summary>Unicast link-local, fe80::/10 (RFC 4291 §2.5.6).</summary>
    public bool IsLinkLocal => (High & 0xFFC0_0000_0000_0000UL) == 0xFE80_0000_0000_0000UL;

    /// <summary>Multicast with link-local scope, ff02::/16 (RFC 4291 §2.7).</summary>
    public bool IsLinkLocalMulticast => (High >> 48) == 0xFF02;

    /// <summary>ff02::1:ff00:0/104 (RFC 4291 §2.7.1).</summary>
    public bool IsSolicitedNodeMulticast => High == SolicitedNodeHigh && (Low & 0xFFFF_FFFF_FF00_0000UL) == SolicitedNodeLow;

    /// <summary>::ffff:0:0/96 (RFC 4291 §2.5.5.2).</summary>
    public bool IsIpv4Mapped => High == 0 && (Low >> 32) == 0xFFFF;

    /// <summary>Neither unspecified nor multicast.</summary>
    public bool IsUnicast => !IsUnspecified && !IsMulticast;

    /// <summary>The solicited-node multicast group of this address (RFC 4291 §2.7.1): ff02::1:ff plus its low 24 bits.</summary>
    public Ipv6Address SolicitedNodeMulticast => new(SolicitedNodeHigh, SolicitedNodeLow | (Low & 0xFF_FFFF));

    /// <summary>The IPv4 address in the low 32 bits (meaningful when <see cref="IsIpv4Mapped"/>).</summary>
    public Ipv4Address EmbeddedIpv4 => new((uint)Low);

    /// <summary>
    /// The link-local address with the modified EUI-64 interface identifier of <paramref name="mac"/>
    /// (RFC 4291 §2.5.1 and appendix A, RFC 2464 §4-5): ff:fe in the middle, the U/L bit flipped.
    /// 02:00:00:00:00:01 gives fe80::ff:fe00:1.
    /// </summary>
    public static Ipv6Address LinkLocalFromMac(MacAddress mac)
    {
        ulong m = mac.Value;
        ulong interfaceId = ((m & 0xFFFF_FF00_0000UL) << 16) | 0x0000_00FF_FE00_0000UL | (m & 0xFF_FFFFUL);
        return new Ipv6Address(0xFE80_0000_0000_0000UL, interfaceId ^ 0x0200_0000_0000_0000UL);
    }

    /// <summary>::ffff:a.b.c.d for an IPv4 address.</summary>
    public static Ipv6Address MapFromIpv4(Ipv4Address address) => new(0, 0xFFFF_0000_0000UL | address.Value);

    /// <summary>Reads sixteen octets in network order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Ipv6Address Read(ReadOnlySpan<byte> bytes) => new(bytes);

    /// <summary>Writes the sixteen octets in network order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
    }

    /// <summary>The 16-bit group at <paramref name="index"/> (0 to 7), as written in text.</summary>
    public ushort GetGroup(int index) =>
        (ushort)((index < 4 ? High : Low) >> (48 - (16 * (index & 3))));

    public bool Equals(Ipv6Address other) => High == other.High && Low == other.Low;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Ipv6Address other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(High, Low);

    public int CompareTo(Ipv6Address other)
    {
        int c = High.CompareTo(other.High);
        return c != 0 ? c : Low.CompareTo(other.Low);
    }

    public static bool operator ==(Ipv6Address left, Ipv6Address right) => left.Equals(right);

    public static bool operator !=(Ipv6Address left, Ipv6Address right) => !left.Equals(right);

    public override string ToString()
    {
        Span<char> buffer = stackalloc char[MaxTextLength];
        TryFormat(buffer, out int written);
        return new string(buffer[..written]);
    }

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>Formats in the RFC 5952 canonical form.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        if (IsIpv4Mapped)
        {
            if (!"::ffff:".TryCopyTo(destination) || !EmbeddedIpv4.TryFormat(destination[7..], out int n))
                return false;
            charsWritten = 7 + n;
            return true;
        }

        // RFC 5952 §4.2: compress the longest run of at least two zero groups, the first one on a tie.
        int bestStart = -1, bestLength = 1;
        for (int i = 0; i < 8;)
        {
            if (GetGroup(i) != 0)
            {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && GetGroup(i) == 0)
                i++;
            if (i - start > bestLength)
            {
                bestStart = start;
                bestLength = i - start;
            }
        }

        int at = 0;
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                if (!Put(destination, ref at, ':') || (i == 0 && !Put(destination, ref at, ':')))
                    return false;
                i += bestLength - 1;
                continue;
            }
            ushort group = GetGroup(i);
            bool leading = true;
            for (int shift = 12; shift >= 0; shift -= 4)
            {
                int nibble = (group >> shift) & 0xF;
                if (leading && nibble == 0 && shift > 0)
                    continue;
                leading = false;
                if (!Put(destination, ref at, MacAddress.HexDigit(nibble)))
                    return false;
            }
            if (i < 7 && !Put(destination, ref at, ':'))
                return false;
        }
        charsWritten = at;
        return true;
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    public static Ipv6Address Parse(string s) => Parse(s.AsSpan());

    public static Ipv6Address Parse(ReadOnlySpan<char> s) =>
        TryParse(s, out Ipv6Address result) ? result : throw new FormatException($"'{s}' is not an IPv6 address");

    public static Ipv6Address Parse(string s, IFormatProvider? provider) => Parse(s.AsSpan());

    public static Ipv6Address Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out Ipv6Address result) =>
        TryParse(s.AsSpan(), out result);

    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out Ipv6Address result) => TryParse(s, out result);

    /// <summary>Parses RFC 4291 §2.2 text (no zone id, no brackets); the whole span must be the address.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out Ipv6Address result)
    {
        result = default;
        if (s.Length < 2 || s.Length > MaxTextLength)
            return false;

        Span<ushort> groups = stackalloc ushort[8];
        int count = 0, gap = -1, i = 0;
        if (s[0] == ':')
        {
            if (s[1] != ':')
                return false;
            gap = 0;
            i = 2;
        }
        while (i < s.Length)
        {
            int start = i, digits = 0;
            uint group = 0;
            int nibble;
            while (i < s.Length && digits < 5 && (nibble = MacAddress.HexValue(s[i])) >= 0)
            {
                group = (group << 4) | (uint)nibble;
                i++;
                digits++;
            }
            if (i < s.Length && s[i] == '.')
            {
                // An embedded dotted quad fills the last two groups and must end the text.
                if (count > 6 || !Ipv4Address.TryParsePrefix(s[start..], out Ipv4Address v4, out int used) || start + used != s.Length)
                    return false;
                groups[count++] = (ushort)(v4.Value >> 16);
                groups[count++] = (ushort)v4.Value;
                break;
            }
            if (digits is 0 or > 4 || count == 8)
                return false;
            groups[count++] = (ushort)group;
            if (i == s.Length)
                break;
            if (s[i++] != ':' || i == s.Length)
                return false;
            if (s[i] == ':')
            {
                if (gap >= 0)
                    return false;
                gap = count;
                i++;
            }
        }

        if (gap < 0 ? count != 8 : count > 7)
            return false;
        if (gap >= 0)
        {
            // "::" stands for the zero groups between what came before and after it.
            int tail = count - gap;
            groups.Slice(gap, tail).CopyTo(groups.Slice(8 - tail, tail));
            groups.Slice(gap, 8 - count).Clear();
        }
        ulong high = 0, low = 0;
        for (int g = 0; g < 4; g++)
        {
            high = (high << 16) | groups[g];
            low = (low << 16) | groups[g + 4];
        }
        result = new Ipv6Address(high, low);
        return true;
    }

    private static bool Put(Span<char> destination, ref int at, char c)
    {
        if (at >= destination.Length)
            return false;
        destination[at++] = c;
        return true;
    }
}
