using System.Buffers.Binary;
using CsCheck;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

public sealed class ChecksumTests
{
    // RFC 1071 §3, "Numerical Examples": the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 in normal
    // order, and the same words swapped (01 00 03 f2 ...) sum to f2dd.
    private static readonly byte[] s_rfc1071Example = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7];

    [Fact]
    public void Sum_Rfc1071Example_IsDdf2()
    {
        Assert.Equal(0xDDF2, Checksum.Fold(Checksum.Sum(s_rfc1071Example)));
        Assert.Equal(0xDDF2, Checksum.Fold(Checksum.SumScalar(s_rfc1071Example)));
        Assert.Equal(0xDDF2, Checksum.Fold(Checksum.SumVector128(s_rfc1071Example)));
        Assert.Equal(0x220D, Checksum.Compute(s_rfc1071Example));
    }

    [Fact]
    public void Sum_Rfc1071ExampleRepeatedPastEveryVectorWidth_MatchesReference()
    {
        // The example's bytes tiled to 8..200 bytes take every vector path at least once.
        for (int copies = 1; copies <= 25; copies++)
        {
            byte[] data = [.. Enumerable.Repeat(s_rfc1071Example, copies).SelectMany(b => b)];
            ushort expected = ChecksumReference.FoldedSum(data);
            Assert.Equal(expected, Checksum.Fold(Checksum.Sum(data)));
            Assert.Equal(expected, Checksum.Fold(Checksum.SumVector128(data)));
            Assert.Equal(expected, Checksum.Fold(Checksum.SumVector256(data)));
            Assert.Equal(expected, Checksum.Fold(Checksum.SumVector512(data)));
            Assert.Equal(expected, Checksum.Fold(Checksum.SumVector256Pair(data)));
            Assert.Equal(expected, Checksum.Fold(Checksum.SumVector512Pair(data)));
        }
    }

    [Fact]
    public void Sum_Rfc1071ExampleSwapped_IsF2dd()
    {
        byte[] swapped = [0x01, 0x00, 0x03, 0xF2, 0xF5, 0xF4, 0xF7, 0xF6];
        Assert.Equal(0xF2DD, Checksum.Fold(Checksum.Sum(swapped)));
    }

    [Fact]
    public void Sum_Empty_ReturnsInitial()
    {
        Assert.Equal(0u, Checksum.Sum([]));
        Assert.Equal(0x1234u, Checksum.Fold(Checksum.Sum([], 0x1234)));
    }

    [Fact]
    public void Sum_OddLength_PadsLastByteWithZero()
    {
        Assert.Equal(0xAB00, Checksum.Fold(Checksum.Sum([0xAB])));
        Assert.Equal(0x0102 + 0x0300, Checksum.Fold(Checksum.Sum([0x01, 0x02, 0x03])));
    }

    [Fact]
    public void Fold_OnesComplementZeroes_StayDistinct()
    {
        // 0x0000 only for all-zero data; data summing to -0 folds to 0xFFFF, so Finish gives 0.
        Assert.Equal(0x0000, Checksum.Fold(Checksum.Sum(new byte[100])));
        Assert.Equal(0xFFFF, Checksum.Fold(Checksum.Sum([0xFF, 0xFF])));
        Assert.Equal(0xFFFF, Checksum.Fold(Checksum.Sum([0x80, 0x00, 0x7F, 0xFF])));
        Assert.Equal(0x0000, Checksum.Compute([0xFF, 0xFF]));
        Assert.Equal(0xFFFF, Checksum.Compute(new byte[3]));
        Assert.Equal(0xFFFF, Checksum.Fold(0xFFFF_FFFF));
        Assert.Equal(0x0001, Checksum.Fold(0x0001_0000));
    }

    [Fact]
    public void Compute_DataWithItsChecksumInserted_SumsToFfff()
    {
        Gen.Select(Gen.Int[1, 1500], Gen.Int).Sample((words, seed) =>
        {
            byte[] data = new byte[2 * words];
            new Random(seed).NextBytes(data);
            int at = 2 * (seed & 0x7FFF) % data.Length & ~1;
            data[at] = data[at + 1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at), Checksum.Compute(data));
            Assert.Equal(0xFFFF, Checksum.Fold(Checksum.Sum(data)));
        }, iter: 300);
    }

    [Fact]
    public void PseudoHeaderSum_RandomFields_MatchesSumOfRfc768PseudoHeader()
    {
        Gen.Select(Gen.UInt, Gen.UInt, Gen.Byte, Gen.UShort).Sample((source, destination, protocol, length) =>
        {
            // RFC 768: source, destination, zero, protocol, UDP length.
            byte[] pseudo = new byte[12];
            BinaryPrimitives.WriteUInt32BigEndian(pseudo, source);
            BinaryPrimitives.WriteUInt32BigEndian(pseudo.AsSpan(4), destination);
            pseudo[9] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), length);
            uint sum = Checksum.PseudoHeaderSum(pseudo.AsSpan(0, 4), pseudo.AsSpan(4, 4), protocol, length);
            Assert.Equal(ChecksumReference.FoldedSum(pseudo), Checksum.Fold(sum));
        });
    }

    [Fact]
    public void PseudoHeaderSumV6_RandomFields_MatchesSumOfRfc8200PseudoHeader()
    {
        Gen.Select(Gen.Int, Gen.Byte, Gen.UInt).Sample((seed, nextHeader, length) =>
        {
            // RFC 8200 §8.1: source, destination, 32-bit upper-layer length, 3 zero bytes, next header.
            byte[] pseudo = new byte[40];
            new Random(seed).NextBytes(pseudo.AsSpan(0, 32));
            BinaryPrimitives.WriteUInt32BigEndian(pseudo.AsSpan(32), length);
            pseudo[39] = nextHeader;
            uint sum = Checksum.PseudoHeaderSumV6(pseudo.AsSpan(0, 16), pseudo.AsSpan(16, 16), nextHeader, length);
            Assert.Equal(ChecksumReference.FoldedSum(pseudo), Checksum.Fold(sum));
        });
    }

    [Fact]
    public void Sum_AnyLengthAfterWarmUp_AllocatesNothing()
    {
        byte[] data = new byte[9001];
        new Random(11).NextBytes(data);
        uint sink = 0;
        void SumAll()
        {
            ReadOnlySpan<byte> address = data.AsSpan(0, 16);
            for (int length = 0; length <= data.Length; length += 7)
            {
                ReadOnlySpan<byte> span = data.AsSpan(length % 64, Math.Min(length, data.Length - 64));
                sink += Checksum.Sum(span, sink);
                sink += Checksum.SumScalar(span) + Checksum.SumVector128(span) + Checksum.SumVector256(span) + Checksum.SumVector512(span)
                    + Checksum.SumVector256Pair(span) + Checksum.SumVector512Pair(span);
                sink += Checksum.Compute(span);
                sink += Checksum.PseudoHeaderSum(address[..4], address[4..8], 17, (ushort)length);
                sink += Checksum.PseudoHeaderSumV6(address, address, 17, (uint)length);
                sink += Checksum.Update((ushort)sink, (ushort)length, (ushort)(length + 1));
                sink += Checksum.Update((ushort)sink, (uint)length, sink);
            }
        }

        // The first pass warms up (JIT, type loading). The measured pass runs in AllocationWindow, as the other
        // allocation tests: CI once saw 7,896 B here in a bare window, under an 8 KiB allocation context, which is how
        // a collection that other tests' threads set off shows in this thread's count; the window holds collections
        // off and measures again if one broke in. Code that allocated per call would still be counted.
        SumAll();
        Assert.Equal(0, Fakes.AllocationWindow.Measure(SumAll, attempts: 3));
        Assert.NotEqual(0u, sink);
    }
}
