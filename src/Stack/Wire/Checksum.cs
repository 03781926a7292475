using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Wire;

/// <summary>
/// The Internet checksum (RFC 1071): one's-complement sums over byte spans, pseudo-header sums
/// for IPv4 and IPv6, and incremental updates after a field change (RFC 1624).
/// </summary>
/// <remarks>
/// Sums are carried as <see cref="uint"/> partial sums of big-endian 16-bit words and folded to
/// 16 bits only at the end, so partial sums over adjacent spans can be added together as long as
/// every span but the last has an even length.
/// </remarks>
public static class Checksum
{
    /// <summary>Adds the big-endian 16-bit words of <paramref name="data"/> to <paramref name="initial"/>; an odd last byte is padded with zero.</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = initial;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        return Reduce(sum);
    }

    /// <summary>Folds a partial sum to 16 bits and returns its one's complement, ready to store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Finish(uint sum) => (ushort)~Fold(sum);

    /// <summary>Folds a partial sum to 16 bits without complementing it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(uint sum)
    {
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum to store for <paramref name="data"/> (folded and complemented).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Sum(data));

    /// <summary>Partial sum of the IPv4 pseudo-header (RFC 768, RFC 793): addresses, protocol and length.</summary>
    public static uint PseudoHeaderSum(ReadOnlySpan<byte> source4, ReadOnlySpan<byte> destination4, byte protocol, ushort length)
    {
        uint sum = Sum(source4) + Sum(destination4);
        return sum + protocol + length;
    }

    /// <summary>Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1): addresses, upper-layer length and next header.</summary>
    public static uint PseudoHeaderSumV6(ReadOnlySpan<byte> source16, ReadOnlySpan<byte> destination16, byte nextHeader, uint length)
    {
        ulong sum = (ulong)Sum(source16) + Sum(destination16) + (length >> 16) + (length & 0xFFFF) + nextHeader;
        return Reduce(sum);
    }

    /// <summary>
    /// RFC 1624 eqn. 3: the new checksum after a 16-bit field changes from <paramref name="oldValue"/>
    /// to <paramref name="newValue"/>: HC' = ~(~HC + ~m + m').
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Update(ushort checksum, ushort oldValue, ushort newValue)
    {
        uint sum = (uint)(ushort)~checksum + (ushort)~oldValue + newValue;
        return (ushort)~Fold(sum);
    }

    /// <summary>RFC 1624 eqn. 3 for a 32-bit field (an IPv4 address, say).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Update(ushort checksum, uint oldValue, uint newValue)
    {
        uint sum = (uint)(ushort)~checksum
            + (ushort)~(oldValue >> 16) + (ushort)~oldValue
            + (newValue >> 16) + (newValue & 0xFFFF);
        return (ushort)~Fold(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Reduce(ulong sum)
    {
        sum = (sum & 0xFFFFFFFF) + (sum >> 32);
        sum = (sum & 0xFFFFFFFF) + (sum >> 32);
        return (uint)sum;
    }
}
