using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Link;

/// <summary>A link endpoint wrapper that records every frame crossing another endpoint, both ways, to a pcap file (smoltcp <c>PcapWriter</c>).</summary>
/// <remarks>
/// Writes the classic libpcap format (<see cref="PcapStream"/>) that tcpdump and Wireshark read.
/// Received frames are recorded before the stack sees them; in-place replies after it rewrote them,
/// as they leave. Recording takes a lock and writes to a stream, so this is a
/// debugging tool: put it around an endpoint only when you want the capture.
/// </remarks>
public sealed class PcapWriter : ILinkEndpoint, INetworkDispatcher, IDisposable
{
    /// <summary>libpcap magic for microsecond timestamps (<see cref="PcapStream.Magic"/>).</summary>
    public const uint Magic = PcapStream.Magic;

    /// <summary>LINKTYPE_ETHERNET (<see cref="PcapStream.LinkTypeEthernet"/>).</summary>
    public const uint LinkTypeEthernet = PcapStream.LinkTypeEthernet;

    /// <summary>Bytes of the file header.</summary>
    public const int GlobalHeaderLength = PcapStream.GlobalHeaderLength;

    /// <summary>Bytes of each record header.</summary>
    public const int RecordHeaderLength = PcapStream.RecordHeaderLength;

    private readonly ILinkEndpoint _inner;
    private readonly PcapStream _pcap;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private INetworkDispatcher? _dispatcher;

    public PcapWriter(ILinkEndpoint inner, Stream stream, TimeProvider? time = null, int snapLength = 65535, bool ownsStream = true)
    {
        _inner = inner;
        _time = time ?? TimeProvider.System;
        _pcap = new PcapStream(stream, snapLength, ownsStream);
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
            _pcap.Flush();
    }

    public void Dispose()
    {
        lock (_lock)
            _pcap.Dispose();
    }

    private void Record(ReadOnlySpan<byte> frame)
    {
        long microseconds = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
        lock (_lock)
            _pcap.Write(frame, microseconds, frame.Length);
    }
}
