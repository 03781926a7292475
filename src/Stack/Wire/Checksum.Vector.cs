using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace XdpStack.Stack.Wire;

// The vector paths, one per width, as in dotnet/runtime's Ascii.Equality.cs ladder. Each loads
// whole vectors as 64-bit lanes and keeps two accumulators per lane: `all` adds the lane as is
// (wrapping mod 2^64) and `high` adds its upper 32-bit word. At the end
//     sum of lower words = all - (high << 32)   (exact: it is below 2^64 for any span length)
// so three instructions per vector (shift, add, add) sum sixteen bytes per 128 bits, with no
// carry detection and no widening shuffles. Two accumulator pairs over a four-vector unrolled
// loop keep the adds independent. The bytes left after the last whole vector are summed by
// loading the last vector that ends at the even end of the span and masking off the bytes
// already counted (the "one vector away from end" trick, masked because a sum must not count
// twice); the odd last byte, if any, is added on its own. Every path is internal and called
// directly by the tests, so each width is checked on any hardware (a width that is not
// accelerated still runs, in software), which is what running the tests under
// DOTNET_EnableAVX512F=0 / DOTNET_EnableAVX2=0 / DOTNET_EnableHWIntrinsic=0 would exercise.
public static partial class Checksum
{
    private const int TailMaskZeros = 64;

    /// <summary>
    /// 64 zero bytes then 64 0xFF bytes: a vector loaded at <c>TailMaskZeros - k</c> is a mask
    /// that clears its first <c>k</c> bytes, for any width up to 64 bytes and 0 &lt; k &lt; width.
    /// </summary>
    private static ReadOnlySpan<byte> TailMask =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ];

    /// <summary>The 512-bit path on its own (scalar below 64 bytes); same contract as <see cref="Sum"/>.</summary>
    internal static uint SumVector512(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        return Combine(length < (nuint)Vector512<byte>.Count
            ? SumScalarNative(ref start, length)
            : SumVector512Native(ref start, length), initial);
    }

    /// <summary>The 256-bit path on its own (scalar below 32 bytes); same contract as <see cref="Sum"/>.</summary>
    internal static uint SumVector256(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        return Combine(length < (nuint)Vector256<byte>.Count
            ? SumScalarNative(ref start, length)
            : SumVector256Native(ref start, length), initial);
    }

    /// <summary>The 128-bit path on its own (scalar below 16 bytes); same contract as <see cref="Sum"/>.</summary>
    internal static uint SumVector128(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        return Combine(length < (nuint)Vector128<byte>.Count
            ? SumScalarNative(ref start, length)
            : SumVector128Native(ref start, length), initial);
    }

    /// <summary>Exact native-order word sum; needs at least 64 bytes.</summary>
    private static ulong SumVector512Native(ref byte start, nuint length)
    {
        const int Width = 64;
        Vector512<ulong> all0 = Vector512<ulong>.Zero, high0 = Vector512<ulong>.Zero;
        Vector512<ulong> all1 = Vector512<ulong>.Zero, high1 = Vector512<ulong>.Zero;
        nuint i = 0;
        if (length >= 4 * Width)
        {
            nuint lastBlock = length - 4 * Width;
            do
            {
                Vector512<ulong> v0 = Vector512.LoadUnsafe(ref start, i).AsUInt64();
                Vector512<ulong> v1 = Vector512.LoadUnsafe(ref start, i + Width).AsUInt64();
                Vector512<ulong> v2 = Vector512.LoadUnsafe(ref start, i + 2 * Width).AsUInt64();
                Vector512<ulong> v3 = Vector512.LoadUnsafe(ref start, i + 3 * Width).AsUInt64();
                all0 += v0;
                high0 += v0 >>> 32;
                all1 += v1;
                high1 += v1 >>> 32;
                all0 += v2;
                high0 += v2 >>> 32;
                all1 += v3;
                high1 += v3 >>> 32;
                i += 4 * Width;
            }
            while (i <= lastBlock);
        }
        for (; length - i >= Width; i += Width)
        {
            Vector512<ulong> v = Vector512.LoadUnsafe(ref start, i).AsUInt64();
            all0 += v;
            high0 += v >>> 32;
        }
        nuint evenEnd = length & ~(nuint)1;
        if (i < evenEnd)
        {
            nuint tail = evenEnd - Width;
            Vector512<ulong> mask = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(TailMask), TailMaskZeros - (i - tail)).AsUInt64();
            Vector512<ulong> v = Vector512.LoadUnsafe(ref start, tail).AsUInt64() & mask;
            all1 += v;
            high1 += v >>> 32;
        }
        Vector512<ulong> all = all0 + all1, high = high0 + high1;
        ulong sum = Vector512.Sum(all - (high << 32)) + Vector512.Sum(high);
        if ((length & 1) != 0)
            sum += OddLastByte(ref start, length - 1);
        return sum;
    }

    /// <summary>Exact native-order word sum; needs at least 32 bytes.</summary>
    private static ulong SumVector256Native(ref byte start, nuint length)
    {
        const int Width = 32;
        Vector256<ulong> all0 = Vector256<ulong>.Zero, high0 = Vector256<ulong>.Zero;
        Vector256<ulong> all1 = Vector256<ulong>.Zero, high1 = Vector256<ulong>.Zero;
        nuint i = 0;
        if (length >= 4 * Width)
        {
            nuint lastBlock = length - 4 * Width;
            do
            {
                Vector256<ulong> v0 = Vector256.LoadUnsafe(ref start, i).AsUInt64();
                Vector256<ulong> v1 = Vector256.LoadUnsafe(ref start, i + Width).AsUInt64();
                Vector256<ulong> v2 = Vector256.LoadUnsafe(ref start, i + 2 * Width).AsUInt64();
                Vector256<ulong> v3 = Vector256.LoadUnsafe(ref start, i + 3 * Width).AsUInt64();
                all0 += v0;
                high0 += v0 >>> 32;
                all1 += v1;
                high1 += v1 >>> 32;
                all0 += v2;
                high0 += v2 >>> 32;
                all1 += v3;
                high1 += v3 >>> 32;
                i += 4 * Width;
            }
            while (i <= lastBlock);
        }
        for (; length - i >= Width; i += Width)
        {
            Vector256<ulong> v = Vector256.LoadUnsafe(ref start, i).AsUInt64();
            all0 += v;
            high0 += v >>> 32;
        }
        nuint evenEnd = length & ~(nuint)1;
        if (i < evenEnd)
        {
            nuint tail = evenEnd - Width;
            Vector256<ulong> mask = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(TailMask), TailMaskZeros - (i - tail)).AsUInt64();
            Vector256<ulong> v = Vector256.LoadUnsafe(ref start, tail).AsUInt64() & mask;
            all1 += v;
            high1 += v >>> 32;
        }
        Vector256<ulong> all = all0 + all1, high = high0 + high1;
        ulong sum = Vector256.Sum(all - (high << 32)) + Vector256.Sum(high);
        if ((length & 1) != 0)
            sum += OddLastByte(ref start, length - 1);
        return sum;
    }

    /// <summary>Exact native-order word sum; needs at least 16 bytes.</summary>
    private static ulong SumVector128Native(ref byte start, nuint length)
    {
        const int Width = 16;
        Vector128<ulong> all0 = Vector128<ulong>.Zero, high0 = Vector128<ulong>.Zero;
        Vector128<ulong> all1 = Vector128<ulong>.Zero, high1 = Vector128<ulong>.Zero;
        nuint i = 0;
        if (length >= 4 * Width)
        {
            nuint lastBlock = length - 4 * Width;
            do
            {
                Vector128<ulong> v0 = Vector128.LoadUnsafe(ref start, i).AsUInt64();
                Vector128<ulong> v1 = Vector128.LoadUnsafe(ref start, i + Width).AsUInt64();
                Vector128<ulong> v2 = Vector128.LoadUnsafe(ref start, i + 2 * Width).AsUInt64();
                Vector128<ulong> v3 = Vector128.LoadUnsafe(ref start, i + 3 * Width).AsUInt64();
                all0 += v0;
                high0 += v0 >>> 32;
                all1 += v1;
                high1 += v1 >>> 32;
                all0 += v2;
                high0 += v2 >>> 32;
                all1 += v3;
                high1 += v3 >>> 32;
                i += 4 * Width;
            }
            while (i <= lastBlock);
        }
        for (; length - i >= Width; i += Width)
        {
            Vector128<ulong> v = Vector128.LoadUnsafe(ref start, i).AsUInt64();
            all0 += v;
            high0 += v >>> 32;
        }
        nuint evenEnd = length & ~(nuint)1;
        if (i < evenEnd)
        {
            nuint tail = evenEnd - Width;
            Vector128<ulong> mask = Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(TailMask), TailMaskZeros - (i - tail)).AsUInt64();
            Vector128<ulong> v = Vector128.LoadUnsafe(ref start, tail).AsUInt64() & mask;
            all1 += v;
            high1 += v >>> 32;
        }
        Vector128<ulong> all = all0 + all1, high = high0 + high1;
        ulong sum = Vector128.Sum(all - (high << 32)) + Vector128.Sum(high);
        if ((length & 1) != 0)
            sum += OddLastByte(ref start, length - 1);
        return sum;
    }
}
