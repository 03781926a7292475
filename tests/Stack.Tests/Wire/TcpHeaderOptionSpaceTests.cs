using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>
/// A peer may pack its options without NOPs; the stack's aligned layout then needs more than the 40 option octets a
/// header has. The long fuzz run's `tcp` target found such a segment (docs/fuzzing.md): its header re-emitted as 44
/// octets of options, and the 4-bit data offset wrapped.
/// </summary>
public sealed class TcpHeaderOptionSpaceTests
{
    // The fuzzer's input, whose 60 octets the target read as one TCP segment: SACK with 3 blocks (26 octets),
    // timestamps (10) and MSS (4), packed into 40 octets of options.
    private const string FuzzInput = "YHEC/zz/A///////9UHt/5TZeAIFGmtAAHEqAAQABQIs+P0D9Sr3Af//lNkEAggKa0AAAZRZAAACBAVA";

    [Fact]
    public void Emit_PackedSackTimestampsAndMss_KeepsTheSackBlocksThatFitAsLinuxDoes()
    {
        byte[] segment = Convert.FromBase64String(FuzzInput);
        Assert.True(TcpPacket.TryCreate(segment, out TcpPacket packet, out _));
        Assert.True(TcpHeader.TryParse(packet, out TcpHeader header));
        Assert.Equal(3, header.SackBlocks.Count);

        // MSS 4 + NOP, NOP, timestamps 12 leave 24 octets: room for NOP, NOP, SACK's 2 and two blocks of 8.
        Assert.Equal(2, header.EmittedSackBlocks);
        Assert.Equal(20 + 4 + 12 + 4 + 16, header.HeaderLength);
        byte[] emitted = new byte[header.BufferLength(0)];
        header.Emit(emitted);
        Assert.True(TcpPacket.TryCreate(emitted, out TcpPacket again, out WireError error), error.ToString());
        Assert.Equal(header.HeaderLength, again.HeaderLength);
        Assert.True(TcpHeader.TryParse(again, out TcpHeader reparsed));
        Assert.Equal(2, reparsed.SackBlocks.Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(header.SackBlocks.Left(i), reparsed.SackBlocks.Left(i));
            Assert.Equal(header.SackBlocks.Right(i), reparsed.SackBlocks.Right(i));
        }
        Assert.Equal(header.Timestamps, reparsed.Timestamps);
        Assert.Equal(header.MaxSegmentSize, reparsed.MaxSegmentSize);
    }

    [Theory]
    [InlineData(false, false, false, 4)] // 4 + 32 = 36
    [InlineData(true, false, false, 4)]  // MSS 4 + 36 = 40
    [InlineData(false, true, false, 3)]  // timestamps 12 + 4 + 24 = 40
    [InlineData(true, true, false, 2)]   // 4 + 12 + 4 + 16 = 36
    [InlineData(true, true, true, 2)]    // 4 + 12 + 4 (window scale) + 4 + 16 = 40
    public void EmittedSackBlocks_FourOffered_AsManyAsTheOtherOptionsLeaveRoomFor(bool mss, bool timestamps, bool windowScale, int expected)
    {
        var sack = default(TcpSackBlocks);
        for (uint i = 0; i < TcpSackBlocks.MaxBlocks; i++)
            sack.Add(1000 * (i + 1), (1000 * (i + 1)) + 500);
        var header = new TcpHeader(1, 2, 3, 4, TcpFlags.Ack, 5)
        {
            MaxSegmentSize = mss ? (ushort)1460 : null,
            Timestamps = timestamps ? new TcpTimestamps(7, 8) : null,
            WindowScale = windowScale ? (byte)7 : null,
            SackBlocks = sack,
        };
        Assert.Equal(expected, header.EmittedSackBlocks);
        Assert.True(header.HeaderLength <= 60);
        byte[] emitted = new byte[header.BufferLength(0)];
        header.Emit(emitted);
        Assert.True(TcpPacket.TryCreate(emitted, out TcpPacket again, out _));
        Assert.True(TcpHeader.TryParse(again, out TcpHeader reparsed));
        Assert.Equal(expected, reparsed.SackBlocks.Count);
    }
}
