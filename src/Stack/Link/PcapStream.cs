using System.Buffers.Binary;

namespace XdpStack.Stack.Link;

/// <summary>Writes frames to a stream in the classic libpcap format (microsecond timestamps, LINKTYPE_ETHERNET) that tcpdump and Wireshark read.</summary>
/// <remarks>
/// The global header is written by the constructor; each <see cref="Write"/> adds one record. Not thread-safe: one
/// writer at a time (<see cref="PcapWriter"/> serialises its callers under a lock; <c>xdpstack capture</c> has one
/// thread). Frames longer than the snap length are cut, and the record keeps their original length.
/// </remarks>
public sealed class PcapStream : IDisposable
{
    /// <summary>libpcap magic for microsecond timestamps, written in the writer's byte order (little-endian here).</summary>
    public const uint Magic = 0xA1B2C3D4;

    /// <summary>LINKTYPE_ETHERNET from tcpdump.org/linktypes.html.</summary>
    public const uint LinkTypeEthernet = 1;

    /// <summary>Bytes of the file header.</summary>
    public const int GlobalHeaderLength = 24;

    /// <summary>Bytes of each record header.</summary>
    public const int RecordHeaderLength = 16;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly byte[] _recordHeader = new byte[RecordHeaderLength];
    private bool _disposed;

    /// <param name="stream">Where the file goes.</param>
    /// <param name="snapLength">The most bytes kept of each frame.</param>
    /// <param name="ownsStream">Whether <see cref="Dispose"/> closes <paramref name="stream"/>.</param>
    public PcapStream(Stream stream, int snapLength = 65535, bool ownsStream = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(snapLength, 1);
        _stream = stream;
        SnapLength = snapLength;
        _ownsStream = ownsStream;
        Span<byte> header = stackalloc byte[GlobalHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);   // version major
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);   // version minor
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);    // thiszone: UTC
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);  // sigfigs
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
        _stream.Write(header);
    }

    /// <summary>The most bytes kept of each frame, as the file header says.</summary>
    public int SnapLength { get; }

    /// <summary>Records written so far.</summary>
    public long Records { get; private set; }

    /// <summary>Adds one record; <paramref name="originalLength"/> is the frame's length on the wire when <paramref name="frame"/> was already cut.</summary>
    /// <param name="frame">The bytes captured (cut here to the snap length if longer).</param>
    /// <param name="unixMicroseconds">When the frame was seen, in microseconds since 1970-01-01 UTC.</param>
    /// <param name="originalLength">The frame's full length; at least <paramref name="frame"/>'s.</param>
    public void Write(ReadOnlySpan<byte> frame, long unixMicroseconds, int originalLength)
    {
        if (_disposed)
            return;
        int captured = Math.Min(frame.Length, SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader, (uint)(unixMicroseconds / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(4), (uint)(unixMicroseconds % 1_000_000));
        BinaryPrimitives.WriteInt32LittleEndian(_recordHeader.AsSpan(8), captured);
        BinaryPrimitives.WriteInt32LittleEndian(_recordHeader.AsSpan(12), Math.Max(originalLength, frame.Length));
        _stream.Write(_recordHeader);
        _stream.Write(frame[..captured]);
        Records++;
    }

    /// <summary>Pushes what was written so far to the stream.</summary>
    public void Flush()
    {
        if (!_disposed)
            _stream.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _stream.Flush();
        _disposed = true;
        if (_ownsStream)
            _stream.Dispose();
    }
}
