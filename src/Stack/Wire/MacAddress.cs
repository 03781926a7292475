using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Wire;

/// <summary>A 48-bit IEEE 802 MAC address, held in one integer so comparing and hashing cost nothing.</summary>
/// <remarks>
/// The six octets are packed big-endian into the low 48 bits of <see cref="Value"/>: the first octet on
/// the wire is bits 47..40. Text form is six two-digit hex groups joined by colons, lower case
/// (<c>02:00:00:00:00:01</c>); parsing also takes upper case and hyphens.
/// </remarks>
public readonly struct MacAddress : IEquatable<MacAddress>, IComparable<MacAddress>, ISpanFormattable, ISpanParsable<MacAddress>
{
    /// <summary>The length of a MAC address in octets.</summary>
    public const int Length = 6;

    private const ulong Mask48 = 0xFFFF_FFFF_FFFFUL;

    private readonly ulong _value;

    /// <summary>Creates an address from the low 48 bits of <paramref name="value"/>; higher bits must be zero.</summary>
    public MacAddress(ulong value)
    {
        if ((value & ~Mask48) != 0)
            ThrowOutOfRange();
        _value = value;
    }

    /// <summary>Reads six octets in wire order; <paramref name="bytes"/> must hold at least six.</summary>
    public MacAddress(ReadOnlySpan<byte> bytes)
    {
        _value = ((ulong)BinaryPrimitives.ReadUInt16BigEndian(bytes) << 32) | BinaryPrimitives.ReadUInt32BigEndian(bytes[2..]);
    }

    /// <summary>ff:ff:ff:ff:ff:ff.</summary>
    public static MacAddress Broadcast => new(Mask48);

    /// <summary>00:00:00:00:00:00, also used for "not yet resolved".</summary>
    public static MacAddress Zero => default;

    /// <summary>The address as a 48-bit integer, first wire octet most significant.</summary>
    public ulong Value => _value;

    public bool IsBroadcast => _value == Mask48;

    /// <summary>True for group addresses (the I/G bit, the least significant bit of the first octet), broadcast included.</summary>
    public bool IsMulticast => (_value & 0x0100_0000_0000UL) != 0;

    /// <summary>True for individual (non-group) addresses.</summary>
    public bool IsUnicast => !IsMulticast;

    /// <summary>True for locally administered addresses (the U/L bit).</summary>
    public bool IsLocallyAdministered => (_value & 0x0200_0000_0000UL) != 0;

    public bool IsZero => _value == 0;

    /// <summary>Reads six octets in wire order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MacAddress Read(ReadOnlySpan<byte> bytes) => new(bytes);

    /// <summary>The multicast MAC for an IPv4 group (RFC 1112 §6.4): 01:00:5e plus the low 23 bits of the group.</summary>
    public static MacAddress FromIpv4Multicast(Ipv4Address group) => new(0x0100_5E00_0000UL | (group.Value & 0x007F_FFFF));

    /// <summary>The multicast MAC for an IPv6 group (RFC 2464 §7): 33:33 plus the low 32 bits of the group.</summary>
    public static MacAddress FromIpv6Multicast(Ipv6Address group) => new(0x3333_0000_0000UL | (uint)group.Low);

    /// <summary>Writes the six octets in wire order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyTo(Span<byte> destination)
    {
        // Bounds-check once for all six bytes, then write the two big-endian parts.
        _ = destination[5];
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(_value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)_value);
    }

    public bool Equals(MacAddress other) => _value == other._value;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is MacAddress other && Equals(other);

    public override int GetHashCode() => _value.GetHashCode();

    public int CompareTo(MacAddress other) => _value.CompareTo(other._value);

    public static bool operator ==(MacAddress left, MacAddress right) => left._value == right._value;

    public static bool operator !=(MacAddress left, MacAddress right) => left._value != right._value;

    public override string ToString()
    {
        Span<char> buffer = stackalloc char[17];
        TryFormat(buffer, out int written);
        return new string(buffer[..written]);
    }

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>Formats as <c>xx:xx:xx:xx:xx:xx</c>; needs 17 characters.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        if (destination.Length < 17)
        {
            charsWritten = 0;
            return false;
        }
        for (int i = 0; i < Length; i++)
        {
            int octet = (int)(_value >> (40 - (8 * i))) & 0xFF;
            int at = i * 3;
            destination[at] = HexDigit(octet >> 4);
            destination[at + 1] = HexDigit(octet & 0xF);
            if (i < Length - 1)
                destination[at + 2] = ':';
        }
        charsWritten = 17;
        return true;
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    public static MacAddress Parse(string s) => Parse(s.AsSpan());

    public static MacAddress Parse(ReadOnlySpan<char> s) =>
        TryParse(s, out MacAddress result) ? result : throw new FormatException($"'{s}' is not a MAC address");

    public static MacAddress Parse(string s, IFormatProvider? provider) => Parse(s.AsSpan());

    public static MacAddress Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out MacAddress result) =>
        TryParse(s.AsSpan(), out result);

    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out MacAddress result) => TryParse(s, out result);

    /// <summary>Parses six two-digit hex groups separated by all colons or all hyphens.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out MacAddress result)
    {
        result = default;
        if (s.Length != 17)
            return false;
        char separator = s[2];
        if (separator != ':' && separator != '-')
            return false;
        ulong value = 0;
        for (int i = 0; i < Length; i++)
        {
            int at = i * 3;
            int high = HexValue(s[at]), low = HexValue(s[at + 1]);
            if ((high | low) < 0)
                return false;
            if (i < Length - 1 && s[at + 2] != separator)
                return false;
            value = (value << 8) | (uint)((high << 4) | low);
        }
        result = new MacAddress(value);
        return true;
    }

    internal static char HexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    internal static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    [DoesNotReturn]
    private static void ThrowOutOfRange() => throw new ArgumentOutOfRangeException("value", "a MAC address has 48 bits");
}
