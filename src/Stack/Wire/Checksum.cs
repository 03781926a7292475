using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace XdpStack.Stack.Wire;

/// <summary>
/// The Internet checksum (RFC 1071): one's-complement sums over byte spans, pseudo-header sums
/// for IPv4 and IPv6, and incremental updates after a field change (RFC 1624).
/// </summary>
/// <remarks>
/// <para>
/// Sums are carried as <see cref="uint"/> partial sums of big-endian 16-bit words and folded to
/// 16 bits only at the end, so partial sums over adjacent spans can be added together as long as
/// every span but the last has an even length. Only the folded value is specified: two partial
/// sums of the same bytes may differ as integers but always fold to the same 16 bits, and a
/// partial sum folds to zero only when every summed byte (and the initial value) is zero.
/// </para>
/// <para>
/// <see cref="Sum"/> adds the data as native-order words and swaps the folded result once:
/// the one's-complement sum is independent of byte order up to that final swap (RFC 1071 §2(B)).
/// Inputs shorter than <see cref="SmallInputBytes"/> take a scalar path with no vector setup;
/// longer ones take the widest hardware-accelerated vector path (Checksum.Vector.cs).
/// </para>
/// </remarks>
public static partial class Checksum
{
    /// <summary>
    /// Below this length the scalar loop beats any vector path: there is at most one wide vector
    /// of work, and the horizontal reduction at the end costs more than the adds it saves.
    /// </summary>
    internal const int SmallInputBytes = 64;

    /// <summary>Adds the big-endian 16-bit words of <paramref name="data"/> to <paramref name="initial"/>; an odd last byte is padded with zero.</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        ulong native;
        if (data.Length < SmallInputBytes || !Vector128.IsHardwareAccelerated)
            native = SumScalarNative(ref start, length);
        else if (Vector512.IsHardwareAccelerated)
            native = SumVector512Native(ref start, length);
        else if (Vector256.IsHardwareAccelerated)
            native = SumVector256Native(ref start, length);
        else
            native = SumVector128Native(ref start, length);
        return Combine(native, initial);
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

    /// <summary>
    /// Turns an exact sum of native-order words into a big-endian partial sum and adds
    /// <paramref name="initial"/>.
    /// </summary>
    /// <remarks>
    /// Folding first keeps the value nonzero when the exact sum is nonzero, and swapping the two
    /// bytes of a folded word maps it to the same word summed in the other byte order, because
    /// 2^16 ≡ 1 (mod 2^16 − 1) makes every byte weigh 1 or 256 by its offset's parity alone.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Combine(ulong native, uint initial)
    {
        ushort folded = Fold(Reduce(native));
        if (BitConverter.IsLittleEndian)
            folded = BinaryPrimitives.ReverseEndianness(folded);
        return Reduce((ulong)initial + folded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Reduce(ulong sum)
    {
        sum = (sum & 0xFFFFFFFF) + (sum >> 32);
        sum = (sum & 0xFFFFFFFF) + (sum >> 32);
        return (uint)sum;
    }
}
