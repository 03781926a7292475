using System.Buffers.Binary;
using XdpStack.Lab;
using XdpStack.Stack.Link;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Stack.Tests.Link;

public class PcapWriterTests
{
    private static (byte[] Pcap, byte[] Request, byte[] Reply) CapturePing()
    {
        var stream = new MemoryStream();
        var channel = new ChannelEndpoint(Packets.StackMac, capabilities: LinkCapabilities.None);
        using var pcap = new PcapWriter(channel, stream, ownsStream: false);
        var stack = new NetworkStack();
        stack.CreateNic(new NicId(1), pcap);
        stack.AddAddress(new NicId(1), Packets.StackIp, 24);
        byte[] request = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        channel.InjectInbound(request);
        byte[] reply = Assert.Single(channel.ReadAll());
        pcap.Flush();
        return (stream.ToArray(), request, reply);
    }

    [Fact]
    public void PingThroughWrapper_FileHasGlobalHeaderAndBothFrames()
    {
        (byte[] file, byte[] request, byte[] reply) = CapturePing();
        Assert.Equal(PcapWriter.Magic, BinaryPrimitives.ReadUInt32LittleEndian(file));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(4)));
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(6)));
        Assert.Equal(65535, BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(16)));
        Assert.Equal(PcapWriter.LinkTypeEthernet, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20)));

        var records = new List<byte[]>();
        int at = PcapWriter.GlobalHeaderLength;
        while (at < file.Length)
        {
            uint microseconds = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4));
            int captured = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 8));
            int original = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 12));
            Assert.True(microseconds < 1_000_000);
            Assert.Equal(original, captured);
            records.Add(file.AsSpan(at + PcapWriter.RecordHeaderLength, captured).ToArray());
            at += PcapWriter.RecordHeaderLength + captured;
        }
        Assert.Equal(file.Length, at);
        Assert.Equal([request, reply], records);
    }

    [Fact]
    public void PingThroughWrapper_TcpdumpReadsTheFile()
    {
        (byte[] file, _, _) = CapturePing();
        string path = Path.Combine(Path.GetTempPath(), $"xdpstack-{Guid.NewGuid():N}.pcap");
        try
        {
            File.WriteAllBytes(path, file);
            CommandResult result = Shell.Run("tcpdump", "-r", path, "-n");
            Assert.True(result.Succeeded, result.StandardError);
            Assert.Contains("ICMP echo request", result.StandardOutput);
            Assert.Contains("ICMP echo reply", result.StandardOutput);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
