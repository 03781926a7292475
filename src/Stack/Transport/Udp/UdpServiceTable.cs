using System.Collections.Frozen;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Udp;

/// <summary>The UDP services as workers see them: for each family, a frozen map from port to the services bound on it.</summary>
/// <remarks>
/// Immutable once built. <see cref="UdpProtocol"/> builds a new table on every change, on a control
/// thread under its lock, and publishes it with one <see cref="Volatile.Write{T}(ref T, T)"/>; a
/// worker reads the reference once per datagram and looks up without locking or allocating. Within
/// a port the services bound to one address come before the wildcard, so the more specific wins.
/// </remarks>
internal sealed class UdpServiceTable
{
    public static readonly UdpServiceTable Empty = new([]);

    private readonly FrozenDictionary<ushort, Binding<Ipv4Address>[]> _ipv4;
    private readonly FrozenDictionary<ushort, Binding<Ipv6Address>[]> _ipv6;

    public UdpServiceTable(UdpService[] services)
    {
        Services = services;
        var ipv4 = new Dictionary<ushort, List<Binding<Ipv4Address>>>();
        var ipv6 = new Dictionary<ushort, List<Binding<Ipv6Address>>>();
        foreach (UdpService service in services)
        {
            foreach (Key key in KeysOf(service))
            {
                if (key.Network == EtherType.Ipv4)
                    Add(ipv4, key.Port, new Binding<Ipv4Address>(service.Kind, key.Address is null, key.Address?.V4 ?? default));
                else
                    Add(ipv6, key.Port, new Binding<Ipv6Address>(service.Kind, key.Address is null, key.Address?.V6 ?? default));
            }
        }
        _ipv4 = Freeze(ipv4);
        _ipv6 = Freeze(ipv6);
    }

    /// <summary>Every registration, in the order they were added.</summary>
    public UdpService[] Services { get; }

    public bool IsEmpty => Services.Length == 0;

    /// <summary>Finds the service for a datagram to <paramref name="destination"/>:<paramref name="port"/>.</summary>
    public bool TryFind(Ipv4Address destination, ushort port, out UdpServiceKind kind) => TryFind(_ipv4, destination, port, out kind);

    /// <summary>Finds the service for a datagram to <paramref name="destination"/>:<paramref name="port"/>.</summary>
    public bool TryFind(Ipv6Address destination, ushort port, out UdpServiceKind kind) => TryFind(_ipv6, destination, port, out kind);

    /// <summary>True if <paramref name="candidate"/> would answer some datagram a registered service already answers (same family, port and address, or a wildcard over both).</summary>
    public bool Overlaps(UdpService candidate)
    {
        foreach (UdpService service in Services)
        {
            if (service.Port != candidate.Port)
                continue;
            foreach (Key mine in KeysOf(service))
            {
                foreach (Key theirs in KeysOf(candidate))
                {
                    if (mine == theirs)
                        return true;
                }
            }
        }
        return false;
    }

    /// <summary>True if any service of <paramref name="network"/> uses <paramref name="port"/>, whatever its address.</summary>
    public bool UsesPort(EtherType network, ushort port) =>
        network == EtherType.Ipv4 ? _ipv4.ContainsKey(port) : _ipv6.ContainsKey(port);

    // A service answers per family: a null address stands for the wildcard of both, an unspecified
    // one for the wildcard of its own family. Key.Address null is the wildcard.
    private static IEnumerable<Key> KeysOf(UdpService service)
    {
        if (service.LocalAddress is not { } address)
        {
            yield return new Key(EtherType.Ipv4, service.Port, null);
            yield return new Key(EtherType.Ipv6, service.Port, null);
        }
        else
        {
            yield return new Key(address.Protocol, service.Port, address.IsUnspecified ? null : address);
        }
    }

    private static bool TryFind<TAddress>(FrozenDictionary<ushort, Binding<TAddress>[]> map, TAddress destination, ushort port, out UdpServiceKind kind)
        where TAddress : struct, IEquatable<TAddress>
    {
        if (map.TryGetValue(port, out Binding<TAddress>[]? bindings))
        {
            foreach (Binding<TAddress> binding in bindings)
            {
                if (binding.AnyAddress || binding.Address.Equals(destination))
                {
                    kind = binding.Kind;
                    return true;
                }
            }
        }
        kind = default;
        return false;
    }

    private static void Add<TAddress>(Dictionary<ushort, List<Binding<TAddress>>> map, ushort port, Binding<TAddress> binding)
        where TAddress : struct, IEquatable<TAddress>
    {
        if (!map.TryGetValue(port, out List<Binding<TAddress>>? list))
            map[port] = list = [];
        list.Add(binding);
    }

    private static FrozenDictionary<ushort, Binding<TAddress>[]> Freeze<TAddress>(Dictionary<ushort, List<Binding<TAddress>>> map)
        where TAddress : struct, IEquatable<TAddress> =>
        map.ToFrozenDictionary(pair => pair.Key, pair => pair.Value.OrderBy(b => b.AnyAddress).ToArray());

    private readonly record struct Key(EtherType Network, ushort Port, IpAddress? Address);

    private readonly record struct Binding<TAddress>(UdpServiceKind Kind, bool AnyAddress, TAddress Address)
        where TAddress : struct, IEquatable<TAddress>;
}
