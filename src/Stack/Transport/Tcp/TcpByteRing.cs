namespace XdpStack.Stack.Transport.Tcp;

/// <summary>A fixed-capacity byte ring for a connection's send or receive queue, allocated once and reused by later connections.</summary>
/// <remarks>
/// Only the owning worker touches a ring. Bytes past <see cref="Count"/> may be written at an offset
/// (<see cref="WriteAt"/>) before they become readable (<see cref="Commit"/>): the receive side keeps
/// out-of-order data there, inside the window it advertised, so reordering needs no extra buffer.
/// </remarks>
internal sealed class TcpByteRing
{
    private readonly byte[] _buffer;
    private int _head;

    public TcpByteRing(int capacity) => _buffer = new byte[capacity];

    public int Capacity => _buffer.Length;

    /// <summary>Readable octets from the head.</summary>
    public int Count { get; private set; }

    public int Free => _buffer.Length - Count;

    public void Reset()
    {
        _head = 0;
        Count = 0;
    }

    /// <summary>Appends up to <see cref="Free"/> octets; returns how many.</summary>
    public int Append(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        WriteAt(Count, data[..n]);
        Count += n;
        return n;
    }

    /// <summary>Writes <paramref name="data"/> <paramref name="offset"/> octets past the head without making it readable; the caller keeps it within <see cref="Capacity"/>.</summary>
    public void WriteAt(int offset, ReadOnlySpan<byte> data)
    {
        int start = (_head + offset) % _buffer.Length;
        int first = Math.Min(data.Length, _buffer.Length - start);
        data[..first].CopyTo(_buffer.AsSpan(start));
        data[first..].CopyTo(_buffer);
    }

    /// <summary>Makes <paramref name="count"/> more octets, written with <see cref="WriteAt"/>, readable.</summary>
    public void Commit(int count) => Count += count;

    /// <summary>Copies <paramref name="destination"/>.Length octets starting <paramref name="offset"/> past the head.</summary>
    public void CopyTo(int offset, Span<byte> destination)
    {
        int start = (_head + offset) % _buffer.Length;
        int first = Math.Min(destination.Length, _buffer.Length - start);
        _buffer.AsSpan(start, first).CopyTo(destination);
        _buffer.AsSpan(0, destination.Length - first).CopyTo(destination[first..]);
    }

    /// <summary>The readable octets up to the end of the array (the first part when they wrap).</summary>
    public ReadOnlySpan<byte> First => _buffer.AsSpan(_head, Math.Min(Count, _buffer.Length - _head));

    /// <summary>Drops <paramref name="count"/> readable octets from the head.</summary>
    /// <remarks>The head never jumps back to 0 when the ring empties: octets written past <see cref="Count"/> (out-of-order data) are placed relative to it.</remarks>
    public void Consume(int count)
    {
        Count -= count;
        _head = (_head + count) % _buffer.Length;
    }
}
