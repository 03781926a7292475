using System.Runtime.InteropServices;
using CsCheck;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>
/// Every summing path (scalar, 128-, 256- and 512-bit loops, the loop-free 32-64 and 64-128 byte
/// paths, and the dispatching <c>Sum</c>) against
/// <see cref="ChecksumReference"/>: every length 0..9000 (the loop-free pair paths 0..320) at every
/// start offset 0..63 from a 64-byte boundary, for random, all-0xFF and mostly-0xFF data.
/// </summary>
/// <remarks>
/// The per-width paths are internal and called directly, so each is checked whatever the
/// hardware: a width that is not accelerated still runs (in software), and <c>Sum</c> is checked
/// on whichever width it picks. That covers what a run under DOTNET_EnableAVX512F=0,
/// DOTNET_EnableAVX2=0 or DOTNET_EnableHWIntrinsic=0 would, without a child process.
/// </remarks>
public sealed unsafe partial class ChecksumVectorTests
{
    public enum Path { Dispatch, Scalar, Vector128, Vector256, Vector512, Vector256Pair, Vector512Pair }

    public static TheoryData<Path> AllPaths => [.. Enum.GetValues<Path>()];

    private static uint Sum(Path path, ReadOnlySpan<byte> data, uint initial) => path switch
    {
        Path.Dispatch => Checksum.Sum(data, initial),
        Path.Scalar => Checksum.SumScalar(data, initial),
        Path.Vector128 => Checksum.SumVector128(data, initial),
        Path.Vector256 => Checksum.SumVector256(data, initial),
        Path.Vector512 => Checksum.SumVector512(data, initial),
        Path.Vector256Pair => Checksum.SumVector256Pair(data, initial),
        Path.Vector512Pair => Checksum.SumVector512Pair(data, initial),
        _ => throw new ArgumentOutOfRangeException(nameof(path)),
    };

    /// <summary>How a sample's bytes are filled; all-0xFF data makes every add carry.</summary>
    private enum Fill { Random, AllOnes, Zeros, MostlyOnes }

    private static void FillBytes(Span<byte> data, Fill fill, int seed)
    {
        var random = new Random(seed);
        switch (fill)
        {
            case Fill.Random:
                random.NextBytes(data);
                break;
            case Fill.AllOnes:
                data.Fill(0xFF);
                break;
            case Fill.Zeros:
                data.Clear();
                break;
            case Fill.MostlyOnes:
                for (int i = 0; i < data.Length; i++)
                    data[i] = random.Next(8) == 0 ? (byte)random.Next(256) : (byte)0xFF;
                break;
        }
    }

    [Fact]
    public void Sum_AnyPath_ReturnsTheSameInteger()
    {
        // Stronger than agreeing after folding: callers may compare or add partial sums, so the
        // path the hardware picks must not change even the unfolded value.
        byte[] data = new byte[700];
        new Random(5).NextBytes(data);
        for (int length = 0; length <= data.Length; length++)
        {
            ReadOnlySpan<byte> span = data.AsSpan(0, length);
            uint expected = Checksum.SumScalar(span, 0x1234_5678);
            Assert.Equal(expected, Checksum.Sum(span, 0x1234_5678));
            Assert.Equal(expected, Checksum.SumVector128(span, 0x1234_5678));
            Assert.Equal(expected, Checksum.SumVector256(span, 0x1234_5678));
            Assert.Equal(expected, Checksum.SumVector512(span, 0x1234_5678));
            Assert.Equal(expected, Checksum.SumVector256Pair(span, 0x1234_5678));
            Assert.Equal(expected, Checksum.SumVector512Pair(span, 0x1234_5678));
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Sum_RandomLengthOffsetAndInitial_MatchesReference(Path path)
    {
        Gen.Select(Gen.Int[0, 9000], Gen.Int[0, 63], Gen.UInt, Gen.Enum<Fill>(), Gen.Int)
            .Sample((length, offset, initial, fill, seed) =>
            {
                byte* block = (byte*)NativeMemory.AlignedAlloc((nuint)(length + 64), 64);
                try
                {
                    var data = new Span<byte>(block + offset, length);
                    FillBytes(data, fill, seed);
                    Assert.Equal(ChecksumReference.FoldedSum(data, initial), Checksum.Fold(Sum(path, data, initial)));
                }
                finally
                {
                    NativeMemory.AlignedFree(block);
                }
            }, iter: 1500);
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Sum_EveryOffsetAndLength_MatchesReference(Path path)
    {
        // Every start offset 0..63 from a 64-byte boundary with every length up to a 9000-byte jumbo frame,
        // for each fill. The pair paths only run from 32 to 128 bytes (scalar beyond), so they stop at 320.
        int maxLength = path is Path.Vector256Pair or Path.Vector512Pair ? 320 : 9000;
        byte* block = (byte*)NativeMemory.AlignedAlloc((nuint)maxLength + 64, 64);
        try
        {
            var random = new Random(42);
            foreach (Fill fill in new[] { Fill.Random, Fill.AllOnes, Fill.MostlyOnes })
            {
                for (int offset = 0; offset < 64; offset++)
                {
                    var buffer = new Span<byte>(block + offset, maxLength);
                    FillBytes(buffer, fill, random.Next());
                    // ChecksumReference's word loop, kept running as the length grows (one add per length
                    // instead of a full pass), and checked against it once per buffer below.
                    ulong words = 0;
                    for (int length = 0; length <= maxLength; length++)
                    {
                        if (length >= 2 && (length & 1) == 0)
                            words += (uint)(buffer[length - 2] << 8 | buffer[length - 1]);
                        ulong expected = (length & 1) == 0 ? words : words + ((uint)buffer[length - 1] << 8);
                        ushort actual = Checksum.Fold(Sum(path, buffer[..length], 0));
                        if (actual != FoldWide(expected))
                            Assert.Fail($"{path} {fill} offset {offset} length {length}: {actual:x4}, expected {FoldWide(expected):x4}");
                    }
                    Assert.Equal(ChecksumReference.FoldedSum(buffer), FoldWide(words));
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(block);
        }
    }

    private static ushort FoldWide(ulong sum)
    {
        while (sum > 0xFFFF)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Sum_LongInputsOfAllOnes_MatchesReference(Path path)
    {
        // Long runs of 0xFFFF words exercise the widest accumulators; 1 MiB + 3 is far past any
        // packet but cheap, and odd.
        byte[] data = new byte[(1 << 20) + 3];
        data.AsSpan().Fill(0xFF);
        Assert.Equal(ChecksumReference.FoldedSum(data, 0xFFFFFFFF), Checksum.Fold(Sum(path, data, 0xFFFFFFFF)));
        new Random(3).NextBytes(data);
        Assert.Equal(ChecksumReference.FoldedSum(data, 1), Checksum.Fold(Sum(path, data, 1)));
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Sum_DataAgainstGuardPages_ReadsNothingOutsideTheSpan(Path path)
    {
        // Like dotnet/runtime's BoundedMemory: an inaccessible page on each side of the data. A read
        // past either end of the span (say, by the overlapping last vector) kills the test host.
        nuint page = (nuint)Environment.SystemPageSize;
        const int MaxLength = 300;
        byte* region = (byte*)mmap(0, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        Assert.True((nint)region != -1, "mmap failed");
        try
        {
            Assert.Equal(0, mprotect((nint)region, page, PROT_NONE));
            Assert.Equal(0, mprotect((nint)(region + 2 * page), page, PROT_NONE));
            byte* low = region + page, high = region + 2 * page;
            new Random(9).NextBytes(new Span<byte>(low, (int)page));
            for (int length = 0; length <= MaxLength; length++)
            {
                var atStart = new ReadOnlySpan<byte>(low, length);
                var atEnd = new ReadOnlySpan<byte>(high - length, length);
                Assert.Equal(ChecksumReference.FoldedSum(atStart), Checksum.Fold(Sum(path, atStart, 0)));
                Assert.Equal(ChecksumReference.FoldedSum(atEnd), Checksum.Fold(Sum(path, atEnd, 0)));
            }
        }
        finally
        {
            Assert.Equal(0, munmap((nint)region, 3 * page));
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Sum_AdjacentEvenSpans_AddUpToTheWhole(Path path)
    {
        Gen.Select(Gen.Int[0, 2000], Gen.Int[0, 2000], Gen.Int).Sample((first, second, seed) =>
        {
            first &= ~1;
            byte[] data = new byte[first + second];
            new Random(seed).NextBytes(data);
            uint chained = Sum(path, data.AsSpan(first), Sum(path, data.AsSpan(0, first), 0));
            Assert.Equal(ChecksumReference.FoldedSum(data), Checksum.Fold(chained));
        }, iter: 300);
    }

    private const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    private const int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(nint addr, nuint length, int prot);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint addr, nuint length);
}
