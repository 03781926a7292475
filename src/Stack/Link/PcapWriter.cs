using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Link;

/// <summary>A link endpoint wrapper that records every frame crossing another endpoint, both ways, to a pcap file (smoltcp <c>PcapWriter</c>).</summary>
/// <remarks>
/// Writes the classic libpcap format (microsecond timestamps, LINKTYPE_ETHERNET) that tcpdump and
/// Wireshark read. Received frames are recorded before the stack sees them; in-place replies after
/// it rewrote them, as they leave. Recording takes a lock and writes to a stream, so this is a
/// debugging tool: put it around an endpoint only when you want the capture.
/// </remarks>
public sealed class PcapWriter : ILinkEndpoint, INetworkDispatcher, IDisposable
{
    /// <summary>libpcap magic for microsecond timestamps, written in the writer's byte order (little-endian here).</summary>
    public const uint Magic = 0xA1B2C3D4;

    /// <summary>LINKTYPE_ETHERNET from tcpdump.org/linktypes.html.</summary>
    public const uint LinkTypeEthernet = 1;

    /// <summary>Bytes of the file header.</summary>
    public const int GlobalHeaderLength = 24;

    /// <summary>Bytes of each record header.</summary>
    public const int RecordHeaderLength = 16;

    private readonly ILinkEndpoint _inner;
    private readonly Stream _stream;
    private readonly TimeProvider _time;
    private readonly int _snapLength;
    private readonly bool _ownsStream;
    private readonly Lock _lock = new();
    private readonly byte[] _recordHeader = new byte[RecordHeaderLength];
    private INetworkDispatcher? _dispatcher;
    private bool _disposed;

    public PcapWriter(ILinkEndpoint inner, Stream stream, TimeProvider? time = null, int snapLength = 65535, bool ownsStream = true)
    {
        _inner = inner;
        _stream = stream;
        _time = time ?? TimeProvider.System;
        _snapLength = snapLength;
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

    public int Mtu => _inner.Mtu;

    public MacAddress LinkAddress => _inner.LinkAddress;

    public LinkCapabilities Capabilities => _inner.Capabilities;

    public bool IsAttached => _inner.IsAttached;

    public void Attach(INetworkDispatcher? dispatcher)
    {
        Volatile.Write(ref _dispatcher, dispatcher);
        _inner.Attach(dispatcher is null ? null : this);
    }

    public void DeliverNetworkPackets(scoped FrameBatch batch)
    {
        for (int i = 0; i < batch.Count; i++)
            Record(batch[i]);
        Volatile.Read(ref _dispatcher)?.DeliverNetworkPackets(batch);
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.Frames[i].Action == FrameAction.Transmit)
                Record(batch[i]);
        }
    }

    public bool WriteFrame(int worker, ReadOnlySpan<byte> frame)
    {
        Record(frame);
        return _inner.WriteFrame(worker, frame);
    }

    /// <summary>Pushes what was recorded so far to the stream.</summary>
    public void Flush()
    {
        lock (_lock)
            _stream.Flush();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            _stream.Flush();
            if (_ownsStream)
                _stream.Dispose();
        }
    }

    private void Record(ReadOnlySpan<byte> frame)
    {
        long microseconds = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
        int captured = Math.Min(frame.Length, _snapLength);
        lock (_lock)
        {
            if (_disposed)
                return;
            BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader, (uint)(microseconds / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(4), (uint)(microseconds % 1_000_000));
            BinaryPrimitives.WriteInt32LittleEndian(_recordHeader.AsSpan(8), captured);
            BinaryPrimitives.WriteInt32LittleEndian(_recordHeader.AsSpan(12), frame.Length);
            _stream.Write(_recordHeader);
            _stream.Write(frame[..captured]);
        }
    }
}
