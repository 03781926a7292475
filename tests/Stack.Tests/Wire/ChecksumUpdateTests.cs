using System.Buffers.Binary;
using CsCheck;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>RFC 1624 eqn. 3 incremental updates checked against recomputing the whole header.</summary>
public sealed class ChecksumUpdateTests
{
    private const int TtlOffset = 8, ChecksumOffset = 10, SourceOffset = 12;

    /// <summary>A random 20-byte IPv4 header (version 4, IHL 5) with a valid checksum and a TTL of at least 1.</summary>
    private static readonly Gen<byte[]> s_header = Gen.Byte.Array[20].Select(h =>
    {
        h[0] = 0x45;
        h[TtlOffset] = (byte)Math.Max(1, (int)h[TtlOffset]);
        WriteChecksum(h);
        return h;
    });

    /// <summary>16-bit values with the one's-complement zeroes (0x0000, 0xFFFF) and their neighbours over-represented.</summary>
    private static readonly Gen<ushort> s_word = Gen.OneOf<ushort>(
        Gen.UShort, Gen.OneOf<ushort>(0x0000, 0xFFFF, 0x0001, 0xFFFE, 0x8000, 0x7FFF));

    private static void WriteChecksum(byte[] header)
    {
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(ChecksumOffset), 0);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(ChecksumOffset), Checksum.Compute(header));
    }

    private static ushort StoredChecksum(byte[] header) => BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(ChecksumOffset));

    private static ushort Recomputed(byte[] header)
    {
        byte[] copy = (byte[])header.Clone();
        WriteChecksum(copy);
        return StoredChecksum(copy);
    }

    [Fact]
    public void Update_TtlDecrement_EqualsRecomputation()
    {
        s_header.Sample(header =>
        {
            ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(TtlOffset));
            header[TtlOffset]--;
            ushort newWord = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(TtlOffset));
            ushort updated = Checksum.Update(StoredChecksum(header), oldWord, newWord);
            Assert.Equal(Recomputed(header), updated);
            Assert.Equal(ChecksumReference.Compute(WithChecksum(header, 0)), updated);
        }, iter: 2000);
    }

    [Fact]
    public void Update_AnyWordToAnyValue_EqualsRecomputation()
    {
        Gen.Select(s_header, Gen.Int[0, 9], s_word, s_word).Sample((header, word, before, after) =>
        {
            if (word == ChecksumOffset / 2)
                return;
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2 * word), before);
            WriteChecksum(header);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2 * word), after);
            Assert.Equal(Recomputed(header), Checksum.Update(StoredChecksum(header), before, after));
        }, iter: 3000);
    }

    [Fact]
    public void Update_SourceAddressRewrite_EqualsRecomputation()
    {
        Gen.Select(s_header, Gen.OneOf<uint>(Gen.UInt, Gen.OneOf(0u, 0xFFFF_FFFFu, 0xFFFF_0000u, 0x0000_FFFFu)))
            .Sample((header, newAddress) =>
            {
                uint oldAddress = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(SourceOffset));
                BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(SourceOffset), newAddress);
                Assert.Equal(Recomputed(header), Checksum.Update(StoredChecksum(header), oldAddress, newAddress));
            }, iter: 3000);
    }

    [Fact]
    public void Update_Rfc1624Example_GivesZeroNotFfff()
    {
        // RFC 1624's worked example: the other header words sum to 0xCD7A and a field changes from 0x5555 to
        // 0x3285, so HC = 0xDD2F and the new data sums to 0xFFFF. Eqn. 3 gives 0x0000, which is
        // what recomputing gives; eqn. 2 (HC - ~m - m') would give 0xFFFF.
        Assert.Equal(0xDD2F, (ushort)~Checksum.Fold(0xCD7Au + 0x5555u));
        Assert.Equal(0x0000, Checksum.Update(0xDD2F, (ushort)0x5555, (ushort)0x3285));
        Assert.Equal(0x0000, Checksum.Finish(0xCD7Au + 0x3285u));
    }

    [Fact]
    public void Update_FieldBetweenZeroAndFfff_LeavesChecksumAlone()
    {
        // 0x0000 and 0xFFFF are both zero in one's complement, so swapping one for the other in a
        // field changes nothing, in either direction and for 16- or 32-bit fields.
        Assert.Equal(0x1234, Checksum.Update(0x1234, (ushort)0x0000, (ushort)0xFFFF));
        Assert.Equal(0x1234, Checksum.Update(0x1234, (ushort)0xFFFF, (ushort)0x0000));
        Assert.Equal(0x1234, Checksum.Update(0x1234, 0x0000_FFFFu, 0xFFFF_0000u));
        Assert.Equal(0x0000, Checksum.Update(0x0000, (ushort)0xABCD, (ushort)0xABCD));
    }

    [Fact]
    public void Update_NoChange_ReturnsSameChecksum()
    {
        Gen.Select(Gen.UShort, s_word).Sample((checksum, value) =>
        {
            // 0xFFFF never comes out of Compute for nonzero data, so it is not a checksum to keep.
            if (checksum == 0xFFFF)
                return;
            Assert.Equal(checksum, Checksum.Update(checksum, value, value));
            Assert.Equal(checksum, Checksum.Update(checksum, (uint)value << 16 | value, (uint)value << 16 | value));
        });
    }

    private static byte[] WithChecksum(byte[] header, ushort value)
    {
        byte[] copy = (byte[])header.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(ChecksumOffset), value);
        return copy;
    }
}
