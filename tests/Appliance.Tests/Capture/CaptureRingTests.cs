using XdpStack.Appliance.Capture;

namespace XdpStack.Appliance.Tests.Capture;

public class CaptureRingTests
{
    [Fact]
    public void TryWrite_FullRing_RefusesUntilTheConsumerAdvances()
    {
        var ring = new CaptureRing(4, 64);
        for (int i = 0; i < 4; i++)
            Assert.True(ring.TryWrite([(byte)i, 1, 2], timestamp: 100 + i, CaptureDirection.Received));
        Assert.False(ring.TryWrite([9], 200, CaptureDirection.Received));
        Assert.Equal(4, ring.Count);

        Assert.True(ring.TryPeek(out ReadOnlySpan<byte> frame, out int length, out long timestamp, out _));
        Assert.Equal([0, 1, 2], frame.ToArray());
        Assert.Equal((3, 100L), (length, timestamp));
        ring.Advance();
        Assert.True(ring.TryWrite([4], 104, CaptureDirection.Transmitted));

        var order = new List<(byte, CaptureDirection)>();
        while (ring.TryPeek(out frame, out _, out _, out CaptureDirection direction))
        {
            order.Add((frame[0], direction));
            ring.Advance();
        }
        Assert.Equal([(1, CaptureDirection.Received), (2, CaptureDirection.Received), (3, CaptureDirection.Received), (4, CaptureDirection.Transmitted)], order);
        Assert.False(ring.TryPeekTimestamp(out _));
    }

    [Fact]
    public void TryWrite_FrameLongerThanASlot_KeepsTheSlotAndTheOriginalLength()
    {
        var ring = new CaptureRing(2, 64);
        byte[] frame = [.. Enumerable.Range(0, 1500).Select(i => (byte)i)];
        Assert.True(ring.TryWrite(frame, 1, CaptureDirection.Received));
        Assert.True(ring.TryPeek(out ReadOnlySpan<byte> kept, out int length, out _, out _));
        Assert.Equal(frame.AsSpan(0, 64).ToArray(), kept.ToArray());
        Assert.Equal(1500, length);
    }

    [Fact]
    public void TryReserveCommit_FrameInPieces_OneRecordWithTheWholeLength()
    {
        var ring = new CaptureRing(2, 16);
        Assert.True(ring.TryReserve(out Span<byte> slot));
        "0123456789"u8.CopyTo(slot);
        "abcdef"u8.CopyTo(slot[10..]);
        ring.Commit(captured: 16, length: 9000, timestamp: 7, CaptureDirection.Transmitted);
        Assert.True(ring.TryPeek(out ReadOnlySpan<byte> frame, out int length, out long timestamp, out CaptureDirection direction));
        Assert.Equal("0123456789abcdef"u8.ToArray(), frame.ToArray());
        Assert.Equal((9000, 7L, CaptureDirection.Transmitted), (length, timestamp, direction));
    }

    [Fact]
    public void TwoThreads_EveryFrameArrivesOnceInOrderOrIsRefused()
    {
        var ring = new CaptureRing(64, 8);
        const int Frames = 200_000;
        int refused = 0;
        var producer = new Thread(() =>
        {
            for (int i = 0; i < Frames; i++)
            {
                if (!ring.TryWrite(BitConverter.GetBytes(i), i, CaptureDirection.Received))
                    refused++;
            }
        });
        producer.Start();
        var seen = new List<int>();
        while (producer.IsAlive || ring.Count > 0)
        {
            while (ring.TryPeek(out ReadOnlySpan<byte> frame, out _, out long timestamp, out _))
            {
                int value = BitConverter.ToInt32(frame);
                Assert.Equal(value, (int)timestamp);
                seen.Add(value);
                ring.Advance();
            }
        }
        producer.Join();
        Assert.Equal(Frames, seen.Count + refused);
        Assert.True(seen.SequenceEqual(seen.Order()), "frames came out of order");
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }
}
