using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport;

/// <summary>The transport protocols registered with a stack, indexed by IP protocol number and published copy-on-write.</summary>
public sealed class TransportDispatcherTable
{
    private readonly Lock _lock = new();

    // Replaced whole under _lock with Volatile.Write; workers read it once per packet.
    private ITransportProtocol?[] _byProtocol = new ITransportProtocol?[256];

    /// <summary>Registers (or replaces) the handler for its protocol number; ICMP is the stack's own and cannot be replaced.</summary>
    public void Register(ITransportProtocol protocol)
    {
        if (protocol.Protocol == IpProtocol.Icmp)
            throw new ArgumentException("ICMPv4 is handled by the IPv4 endpoint", nameof(protocol));
        lock (_lock)
        {
            ITransportProtocol?[] next = (ITransportProtocol?[])_byProtocol.Clone();
            next[(byte)protocol.Protocol] = protocol;
            Volatile.Write(ref _byProtocol, next);
        }
    }

    public bool Unregister(IpProtocol protocol)
    {
        lock (_lock)
        {
            if (_byProtocol[(byte)protocol] is null)
                return false;
            ITransportProtocol?[] next = (ITransportProtocol?[])_byProtocol.Clone();
            next[(byte)protocol] = null;
            Volatile.Write(ref _byProtocol, next);
            return true;
        }
    }

    internal ITransportProtocol? Find(byte protocol) => Volatile.Read(ref _byProtocol)[protocol];
}
