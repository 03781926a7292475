using System.Buffers.Binary;

namespace XdpStack.Appliance.Capture;

/// <summary>The binary messages a capture sends on the control socket after its first (JSON) line: frames, then one end message.</summary>
/// <remarks>
/// Each message is a 24-byte header (little-endian) and a body: kind (u8: 1 frame, 2 end), direction (u8), queue
/// (u16), body length (u32), original frame length (u32), reserved (u32), timestamp in microseconds since 1970 UTC
/// (i64). A frame's body is the captured bytes; the end message's body is a <c>CaptureSummary</c> as JSON. The
/// client turns frames into pcap records (<see cref="Stack.Link.PcapStream"/>), so the file is written where the
/// operator runs the command, not by the appliance.
/// </remarks>
internal static class CaptureMessage
{
    public const int HeaderLength = 24;

    public const byte FrameKind = 1;

    public const byte EndKind = 2;

    /// <summary>Longest body a reader accepts: a frame cut to the largest snap length, or a summary.</summary>
    public const int MaxBody = 1 << 16;

    public static void WriteFrame(Stream output, Span<byte> header, ReadOnlySpan<byte> frame, int originalLength, int queue, CaptureDirection direction, long unixMicroseconds)
    {
        WriteHeader(header, FrameKind, (byte)direction, queue, frame.Length, originalLength, unixMicroseconds);
        output.Write(header[..HeaderLength]);
        output.Write(frame);
    }

    public static void WriteEnd(Stream output, ReadOnlySpan<byte> summaryJson)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        WriteHeader(header, EndKind, 0, 0, summaryJson.Length, summaryJson.Length, 0);
        output.Write(header);
        output.Write(summaryJson);
    }

    /// <summary>Reads one message into <paramref name="body"/>; false at the end of the stream before a header.</summary>
    /// <exception cref="ApplianceException">A truncated or malformed message.</exception>
    public static bool TryRead(Stream input, byte[] body, out byte kind, out CaptureDirection direction, out int queue, out int length, out int originalLength, out long unixMicroseconds)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        int got = input.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false);
        kind = 0;
        direction = default;
        queue = length = originalLength = 0;
        unixMicroseconds = 0;
        if (got == 0)
            return false;
        if (got < HeaderLength)
            throw new ApplianceException("the capture stream ended inside a message header");
        kind = header[0];
        direction = (CaptureDirection)header[1];
        queue = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
        length = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        originalLength = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        unixMicroseconds = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        if (kind is not (FrameKind or EndKind) || length < 0 || length > Math.Min(MaxBody, body.Length))
            throw new ApplianceException($"the capture stream sent a malformed message (kind {kind}, length {length})");
        input.ReadExactly(body, 0, length);
        return true;
    }

    private static void WriteHeader(Span<byte> header, byte kind, byte direction, int queue, int length, int originalLength, long unixMicroseconds)
    {
        header[0] = kind;
        header[1] = direction;
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)queue);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], length);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], originalLength);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], unixMicroseconds);
    }
}
