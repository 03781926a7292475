using System.Buffers.Binary;
using XdpStack.Stack.Link;

namespace XdpStack.Stack.Tests.Link;

public class PcapStreamTests
{
    [Fact]
    public void Write_FrameLongerThanSnapLength_CutWithItsOriginalLengthAndTime()
    {
        var stream = new MemoryStream();
        using (var pcap = new PcapStream(stream, snapLength: 64, ownsStream: false))
        {
            pcap.Write(new byte[100], unixMicroseconds: 1_700_000_000_123_456, originalLength: 100);
            pcap.Write(new byte[40], unixMicroseconds: 1_700_000_001_000_000, originalLength: 1514);
            Assert.Equal(2, pcap.Records);
        }
        byte[] file = stream.ToArray();
        Assert.Equal(64, BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(16)));
        int at = PcapStream.GlobalHeaderLength;
        Assert.Equal(1_700_000_000u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at)));
        Assert.Equal(123_456u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4)));
        Assert.Equal((64, 100), (BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 8)), BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 12))));
        at += PcapStream.RecordHeaderLength + 64;
        // A frame the capture already cut keeps the length it had on the wire.
        Assert.Equal((40, 1514), (BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 8)), BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 12))));
        Assert.Equal(at + PcapStream.RecordHeaderLength + 40, file.Length);
    }
}
