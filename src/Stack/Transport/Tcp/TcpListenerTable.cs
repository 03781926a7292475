namespace XdpStack.Stack.Transport.Tcp;

/// <summary>The listeners as workers see them: an immutable array, the ones bound to one address first so that the more specific wins.</summary>
/// <remarks>
/// Built on a control thread under <see cref="TcpProtocol"/>'s lock and published with one
/// <see cref="Volatile.Write{T}(ref T, T)"/>. Workers search it only for segments no connection takes (a
/// SYN, or a stray segment to answer with RST), so a short linear scan serves.
/// </remarks>
internal sealed class TcpListenerTable
{
    public static readonly TcpListenerTable Empty = new([]);

    private readonly TcpListener[] _ordered;

    public TcpListenerTable(TcpListener[] listeners)
    {
        Listeners = listeners;
        _ordered = [.. listeners.OrderBy(l => l.LocalAddress is { IsUnspecified: false } ? 0 : 1)];
    }

    /// <summary>Every listener, in the order added.</summary>
    public TcpListener[] Listeners { get; }

    public TcpListener? Find(bool ipv6, IpAddress destination, ushort port)
    {
        foreach (TcpListener listener in _ordered)
        {
            if (listener.Port == port && listener.Accepts(ipv6, destination))
                return listener;
        }
        return null;
    }
}
