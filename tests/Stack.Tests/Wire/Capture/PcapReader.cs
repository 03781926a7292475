using System.Buffers.Binary;

namespace XdpStack.Stack.Tests.Wire.Capture;

/// <summary>Reads the frames of a classic pcap file (not pcapng), as tcpdump -w writes it.</summary>
/// <remarks>Format: a 24-octet global header (magic, version, snaplen, link type) then, per packet, a 16-octet record header (seconds, sub-seconds, captured length, original length) and the captured octets.</remarks>
internal static class PcapReader
{
    private const uint MagicMicroseconds = 0xA1B2C3D4;
    private const uint MagicNanoseconds = 0xA1B23C4D;
    private const uint LinkTypeEthernet = 1;

    public static List<byte[]> ReadFrames(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        bool little = magic is MagicMicroseconds or MagicNanoseconds;
        if (!little && BinaryPrimitives.ReadUInt32BigEndian(file) is not (MagicMicroseconds or MagicNanoseconds))
            throw new InvalidDataException($"{path} is not a pcap file");
        uint Read32(int at) => little ? BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at)) : BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(at));
        if (Read32(20) != LinkTypeEthernet)
            throw new InvalidDataException($"{path}: link type {Read32(20)}, expected Ethernet");

        var frames = new List<byte[]>();
        int offset = 24;
        while (offset < file.Length)
        {
            int captured = (int)Read32(offset + 8);
            int original = (int)Read32(offset + 12);
            if (captured != original)
                throw new InvalidDataException($"{path}: a frame was cut by the snap length");
            frames.Add(file.AsSpan(offset + 16, captured).ToArray());
            offset += 16 + captured;
        }
        return frames;
    }
}
