using System.Diagnostics.CodeAnalysis;

namespace XdpStack.Stack.Wire;

/// <summary>An IPv6 network prefix (RFC 4291 §2.3): an address whose bits past the length are zero, and a length from 0 to 128.</summary>
/// <remarks>
/// The constructor and the parsers reject bits past the length (2001:2::1/48 is an error);
/// <see cref="Containing"/> masks them off. Containment is two ANDs and two compares.
/// </remarks>
public readonly struct Ipv6Prefix : IEquatable<Ipv6Prefix>, ISpanFormattable, ISpanParsable<Ipv6Prefix>
{
    private readonly Ipv6Address _address;
    private readonly byte _length;

    /// <summary>Creates a prefix; throws if <paramref name="length"/> is over 128 or <paramref name="address"/> has bits past it.</summary>
    public Ipv6Prefix(Ipv6Address address, int length)
    {
        if ((uint)length > 128)
            ThrowLength(length);
        if (ApplyMask(address, length) != address)
            ThrowHostBits(address, length);
        _address = address;
        _length = (byte)length;
    }

    // For callers that have already validated.
    private Ipv6Prefix(Ipv6Address address, byte length, bool _)
    {
        _address = address;
        _length = length;
    }

    /// <summary>::/0, the default route.</summary>
    public static Ipv6Prefix Default => default;

    /// <summary>The prefix bits, the rest zero.</summary>
    public Ipv6Address Address => _address;

    /// <summary>The prefix length in bits, 0 to 128.</summary>
    public int Length => _length;

    /// <summary>The mask as an address: ffff:ffff:ffff:: for a /48.</summary>
    public Ipv6Address Mask => new(HighMask(_length), LowMask(_length));

    /// <summary>The prefix of <paramref name="length"/> bits that holds <paramref name="address"/>: 2001:2::1 and 48 give 2001:2::/48.</summary>
    public static Ipv6Prefix Containing(Ipv6Address address, int length)
    {
        if ((uint)length > 128)
            ThrowLength(length);
        return new Ipv6Prefix(ApplyMask(address, length), (byte)length, false);
    }

    public bool Contains(Ipv6Address address) =>
        (address.High & HighMask(_length)) == _address.High && (address.Low & LowMask(_length)) == _address.Low;

    /// <summary>True when every address of <paramref name="other"/> is in this prefix.</summary>
    public bool Contains(Ipv6Prefix other) => other._length >= _length && Contains(other._address);

    // Shifts by 64 wrap to 0 in C#, so the ends of each half need their own cases.
    private static ulong HighMask(int length) =>
        length >= 64 ? ulong.MaxValue : length == 0 ? 0 : ulong.MaxValue << (64 - length);

    private static ulong LowMask(int length) =>
        length <= 64 ? 0 : length == 128 ? ulong.MaxValue : ulong.MaxValue << (128 - length);

    private static Ipv6Address ApplyMask(Ipv6Address address, int length) =>
        new(address.High & HighMask(length), address.Low & LowMask(length));

    public bool Equals(Ipv6Prefix other) => _address == other._address && _length == other._length;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Ipv6Prefix other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_address.High, _address.Low, _length);

    public static bool operator ==(Ipv6Prefix left, Ipv6Prefix right) => left.Equals(right);

    public static bool operator !=(Ipv6Prefix left, Ipv6Prefix right) => !left.Equals(right);

    public override string ToString()
    {
        Span<char> buffer = stackalloc char[Ipv6Address.MaxTextLength + 4];
        TryFormat(buffer, out int written);
        return new string(buffer[..written]);
    }

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        if (!_address.TryFormat(destination, out int n) || n >= destination.Length)
            return false;
        destination[n++] = '/';
        if (!_length.TryFormat(destination[n..], out int m, default, System.Globalization.CultureInfo.InvariantCulture))
            return false;
        charsWritten = n + m;
        return true;
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    public static Ipv6Prefix Parse(string s) => Parse(s.AsSpan());

    public static Ipv6Prefix Parse(ReadOnlySpan<char> s) =>
        TryParse(s, out Ipv6Prefix result) ? result : throw new FormatException($"'{s}' is not an IPv6 prefix");

    public static Ipv6Prefix Parse(string s, IFormatProvider? provider) => Parse(s.AsSpan());

    public static Ipv6Prefix Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out Ipv6Prefix result) =>
        TryParse(s.AsSpan(), out result);

    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out Ipv6Prefix result) => TryParse(s, out result);

    /// <summary>Parses <c>address/n</c>; fails if bits past the length are set or the length is out of range.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out Ipv6Prefix result)
    {
        result = default;
        if (!Ipv4Prefix.TryParseAddressAndLength(s, 128, out int slash, out int length) || !Ipv6Address.TryParse(s[..slash], out Ipv6Address address))
            return false;
        if (ApplyMask(address, length) != address)
            return false;
        result = new Ipv6Prefix(address, (byte)length, false);
        return true;
    }

    [DoesNotReturn]
    private static void ThrowLength(int length) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, "an IPv6 prefix length is 0 to 128");

    [DoesNotReturn]
    private static void ThrowHostBits(Ipv6Address address, int length) =>
        throw new ArgumentException($"{address}/{length} has bits set past the prefix length", nameof(address));
}
