using XdpStack.Stack.Transport.Udp;

namespace XdpStack.Stack.Transport.Raw;

/// <summary>A raw socket of the stack: sees a copy of every packet of one IP protocol addressed to us, network header included, before transport demultiplexing.</summary>
/// <remarks>Like <see cref="UdpEndpoint"/> each worker copies into its own single-producer, single-consumer ring; the application drains them all.</remarks>
public sealed class RawEndpoint : IDisposable
{
    private readonly RawTable _table;
    private readonly UdpReceiveRing[] _rings;
    // One counter per worker, each written only by its worker.
    private readonly long[] _dropped;
    private int _nextRing;

    internal RawEndpoint(RawTable table, byte protocol, int workers, int ringCapacity, int maxPacket)
    {
        _table = table;
        Protocol = protocol;
        _rings = new UdpReceiveRing[workers];
        _dropped = new long[workers];
        for (int w = 0; w < workers; w++)
            _rings[w] = new UdpReceiveRing(ringCapacity, maxPacket);
    }

    /// <summary>The IP protocol number the endpoint sees.</summary>
    public byte Protocol { get; }

    /// <summary>Packets copied but dropped because a ring was full or a packet exceeded its slot; read on the application side.</summary>
    public long Dropped => _dropped.Sum();

    /// <summary>Takes the oldest packet of the next non-empty ring into <paramref name="buffer"/>; false when none waits.</summary>
    public bool TryReceive(Span<byte> buffer, out UdpDatagramInfo info, out int length)
    {
        for (int i = 0; i < _rings.Length; i++)
        {
            int index = (_nextRing + i) % _rings.Length;
            if (_rings[index].TryDequeue(buffer, out info, out length))
            {
                _nextRing = (index + 1) % _rings.Length;
                return true;
            }
        }
        info = default;
        length = 0;
        return false;
    }

    /// <summary>Stops receiving.</summary>
    public void Dispose() => _table.Remove(this);

    internal void Deliver(int worker, ReadOnlySpan<byte> packet, in UdpDatagramInfo info)
    {
        if (!_rings[worker].TryEnqueue(packet, info))
            _dropped[worker]++;
    }
}
