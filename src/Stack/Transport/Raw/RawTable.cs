using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Raw;

/// <summary>The raw endpoints of a stack by IP protocol number, published copy-on-write; the network layer offers each delivered packet here first.</summary>
public sealed class RawTable
{
    private readonly Lock _lock = new();
    private readonly int _workers;

    // Replaced whole under _lock with Volatile.Write; workers read it once per packet.
    private RawEndpoint[]?[] _byProtocol = new RawEndpoint[]?[256];

    internal RawTable(int workers) => _workers = workers;

    /// <summary>Opens a raw endpoint for <paramref name="protocol"/> with a ring per worker of <paramref name="ringCapacity"/> packets of up to <paramref name="maxPacket"/> octets.</summary>
    public RawEndpoint Open(IpProtocol protocol, int ringCapacity = 256, int maxPacket = 2048)
    {
        var endpoint = new RawEndpoint(this, (byte)protocol, _workers, ringCapacity, maxPacket);
        lock (_lock)
        {
            RawEndpoint[]?[] next = (RawEndpoint[]?[])_byProtocol.Clone();
            next[(byte)protocol] = [.. next[(byte)protocol] ?? [], endpoint];
            Volatile.Write(ref _byProtocol, next);
        }
        return endpoint;
    }

    internal void Remove(RawEndpoint endpoint)
    {
        lock (_lock)
        {
            RawEndpoint[]? current = _byProtocol[endpoint.Protocol];
            if (current is null || Array.IndexOf(current, endpoint) < 0)
                return;
            RawEndpoint[]?[] next = (RawEndpoint[]?[])_byProtocol.Clone();
            RawEndpoint[] remaining = current.Where(e => !ReferenceEquals(e, endpoint)).ToArray();
            next[endpoint.Protocol] = remaining.Length == 0 ? null : remaining;
            Volatile.Write(ref _byProtocol, next);
        }
    }

    /// <summary>Copies an IP packet addressed to us (from its network header) to every raw endpoint of its protocol.</summary>
    internal void Deliver(Nic nic, int worker, byte protocol, ReadOnlySpan<byte> packet, IpAddress source, IpAddress destination)
    {
        RawEndpoint[]? endpoints = Volatile.Read(ref _byProtocol)[protocol];
        if (endpoints is null)
            return;
        var info = new UdpDatagramInfo(source, 0, destination, 0, nic.Id, packet.Length, worker);
        foreach (RawEndpoint endpoint in endpoints)
            endpoint.Deliver(worker, packet, info);
    }
}
