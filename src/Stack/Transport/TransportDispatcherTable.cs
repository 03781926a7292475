using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport;

/// <summary>The transport protocols registered with a stack, indexed by IP protocol number and published copy-on-write.</summary>
public sealed class TransportDispatcherTable
{
    private readonly Lock _lock = new();

    // Replaced whole under _lock with Volatile.Write; workers read it once per packet.
    private ITransportProtocol?[] _byProtocol = new ITransportProtocol?[256];

    // Replaced whole under _lock with Volatile.Write; workers read it once per timer poll.
    private IWorkerTimers[] _timers = [];

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
            PublishTimersLocked(next);
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
            PublishTimersLocked(next);
            return true;
        }
    }

    internal ITransportProtocol? Find(byte protocol) => Volatile.Read(ref _byProtocol)[protocol];

    /// <summary>The registered protocols that have worker timers.</summary>
    internal IWorkerTimers[] Timers => Volatile.Read(ref _timers);

    private void PublishTimersLocked(ITransportProtocol?[] protocols) =>
        Volatile.Write(ref _timers, [.. protocols.OfType<IWorkerTimers>()]);
}
