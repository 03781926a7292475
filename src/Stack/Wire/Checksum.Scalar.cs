using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpStack.Stack.Wire;

public static partial class Checksum
{
    /// <summary>The scalar path on its own, for tests and benchmarks; same contract as <see cref="Sum"/>.</summary>
    internal static uint SumScalar(ReadOnlySpan<byte> data, uint initial = 0) =>
        Combine(SumScalarNative(ref MemoryMarshal.GetReference(data), (nuint)data.Length), initial);

    /// <summary>
    /// Exact sum of the native-order 16-bit words of <paramref name="length"/> bytes at
    /// <paramref name="start"/>, an odd last byte padded with zero.
    /// </summary>
    /// <remarks>
    /// Adds 32-bit words into 64-bit accumulators, which cannot carry out for any span length,
    /// so there is no carry to track. Two accumulators let consecutive adds overlap. A 32-bit word
    /// at an even offset weighs the same as its two 16-bit halves, because 2^16 ≡ 1 (mod 2^16 − 1).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SumScalarNative(ref byte start, nuint length)
    {
        ulong sum0 = 0, sum1 = 0;
        nuint i = 0;
        for (; length - i >= 16; i += 16)
        {
            sum0 += ReadUInt32(ref start, i);
            sum1 += ReadUInt32(ref start, i + 4);
            sum0 += ReadUInt32(ref start, i + 8);
            sum1 += ReadUInt32(ref start, i + 12);
        }
        nuint rest = length - i;
        if ((rest & 8) != 0)
        {
            sum0 += ReadUInt32(ref start, i);
            sum1 += ReadUInt32(ref start, i + 4);
            i += 8;
        }
        if ((rest & 4) != 0)
        {
            sum0 += ReadUInt32(ref start, i);
            i += 4;
        }
        if ((rest & 2) != 0)
        {
            sum1 += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref start, i));
            i += 2;
        }
        if ((rest & 1) != 0)
            sum0 += OddLastByte(ref start, i);
        return sum0 + sum1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadUInt32(ref byte start, nuint offset) =>
        Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, offset));

    /// <summary>The last byte of an odd-length span (at an even offset), as the native-order word it pads to.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint OddLastByte(ref byte start, nuint offset)
    {
        uint b = Unsafe.Add(ref start, offset);
        return BitConverter.IsLittleEndian ? b : b << 8;
    }
}
