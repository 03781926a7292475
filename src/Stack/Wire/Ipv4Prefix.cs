using System.Diagnostics.CodeAnalysis;

namespace XdpStack.Stack.Wire;

/// <summary>An IPv4 network prefix (RFC 4632): an address whose host bits are zero, and a length from 0 to 32.</summary>
/// <remarks>
/// The constructor and the parsers reject host bits (198.18.0.1/15 is an error, as in
/// <see cref="System.Net.IPNetwork"/>); <see cref="Containing"/> masks them off for callers that start
/// from an interface address. Containment is one AND and one compare.
/// </remarks>
public readonly struct Ipv4Prefix : IEquatable<Ipv4Prefix>, ISpanFormattable, ISpanParsable<Ipv4Prefix>
{
    private readonly Ipv4Address _address;
    private readonly byte _length;

    /// <summary>Creates a prefix; throws if <paramref name="length"/> is over 32 or <paramref name="address"/> has host bits set.</summary>
    public Ipv4Prefix(Ipv4Address address, int length)
    {
        if ((uint)length > 32)
            ThrowLength(length);
        if ((address.Value & MaskFor(length)) != address.Value)
            ThrowHostBits(address, length);
        _address = address;
        _length = (byte)length;
    }

    // For callers that have already validated.
    private Ipv4Prefix(Ipv4Address address, byte length, bool _)
    {
        _address = address;
        _length = length;
    }

    /// <summary>0.0.0.0/0, the default route.</summary>
    public static Ipv4Prefix Default => default;

    /// <summary>The network address (host bits zero).</summary>
    public Ipv4Address Address => _address;

    /// <summary>The prefix length in bits, 0 to 32.</summary>
    public int Length => _length;

    /// <summary>The netmask, 255.255.128.0 for a /17.</summary>
    public Ipv4Address Mask => new(MaskFor(_length));

    /// <summary>The last address in the prefix (the directed broadcast address for lengths under 31).</summary>
    public Ipv4Address LastAddress => new(_address.Value | ~MaskFor(_length));

    /// <summary>The prefix of <paramref name="length"/> bits that holds <paramref name="address"/>: 198.18.0.1 and 15 give 198.18.0.0/15.</summary>
    public static Ipv4Prefix Containing(Ipv4Address address, int length)
    {
        if ((uint)length > 32)
            ThrowLength(length);
        return new Ipv4Prefix(new Ipv4Address(address.Value & MaskFor(length)), (byte)length, false);
    }

    /// <summary>The host-order mask of <paramref name="length"/> leading one bits.</summary>
    public static uint MaskFor(int length) =>
        // A shift by 32 is a shift by 0 in C#, so /0 needs its own case.
        length == 0 ? 0 : uint.MaxValue << (32 - length);

    public bool Contains(Ipv4Address address) => (address.Value & MaskFor(_length)) == _address.Value;

    /// <summary>True when every address of <paramref name="other"/> is in this prefix.</summary>
    public bool Contains(Ipv4Prefix other) => other._length >= _length && Contains(other._address);

    public bool Equals(Ipv4Prefix other) => _address == other._address && _length == other._length;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Ipv4Prefix other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_address.Value, _length);

    public static bool operator ==(Ipv4Prefix left, Ipv4Prefix right) => left.Equals(right);

    public static bool operator !=(Ipv4Prefix left, Ipv4Prefix right) => !left.Equals(right);

    public override string ToString()
    {
        Span<char> buffer = stackalloc char[Ipv4Address.MaxTextLength + 3];
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

    public static Ipv4Prefix Parse(string s) => Parse(s.AsSpan());

    public static Ipv4Prefix Parse(ReadOnlySpan<char> s) =>
        TryParse(s, out Ipv4Prefix result) ? result : throw new FormatException($"'{s}' is not an IPv4 prefix");

    public static Ipv4Prefix Parse(string s, IFormatProvider? provider) => Parse(s.AsSpan());

    public static Ipv4Prefix Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out Ipv4Prefix result) =>
        TryParse(s.AsSpan(), out result);

    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out Ipv4Prefix result) => TryParse(s, out result);

    /// <summary>Parses <c>a.b.c.d/n</c>; fails if host bits are set or the length is out of range.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out Ipv4Prefix result)
    {
        result = default;
        if (!TryParseAddressAndLength(s, 32, out int slash, out int length) || !Ipv4Address.TryParse(s[..slash], out Ipv4Address address))
            return false;
        if ((address.Value & MaskFor(length)) != address.Value)
            return false;
        result = new Ipv4Prefix(address, (byte)length, false);
        return true;
    }

    /// <summary>Splits "ADDRESS/LENGTH" and reads a decimal length of at most <paramref name="max"/> without leading zeros.</summary>
    internal static bool TryParseAddressAndLength(ReadOnlySpan<char> s, int max, out int slash, out int length)
    {
        length = 0;
        slash = s.IndexOf('/');
        if (slash <= 0)
            return false;
        ReadOnlySpan<char> digits = s[(slash + 1)..];
        if (digits.Length is 0 or > 3 || (digits.Length > 1 && digits[0] == '0'))
            return false;
        foreach (char c in digits)
        {
            if ((uint)(c - '0') > 9)
                return false;
            length = (length * 10) + (c - '0');
        }
        return length <= max;
    }

    [DoesNotReturn]
    private static void ThrowLength(int length) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, "an IPv4 prefix length is 0 to 32");

    [DoesNotReturn]
    private static void ThrowHostBits(Ipv4Address address, int length) =>
        throw new ArgumentException($"{address}/{length} has host bits set", nameof(address));
}
