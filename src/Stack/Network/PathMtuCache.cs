using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network;

/// <summary>
/// Path MTUs the stack learned for its own packets from IPv4 Fragmentation Needed (RFC 1191) and ICMPv6 Packet Too
/// Big (RFC 8201), as Linux keeps them in route exceptions: only ever lowered, at least 552 octets for IPv4
/// (ip_rt_min_pmtu) and ignored below 1280 for IPv6, forgotten after 10 minutes (mtu_expires).
/// </summary>
/// <remarks>
/// A direct-mapped table of immutable entries. Workers read it without a lock on the way out; an entry is written
/// (with <see cref="Volatile.Write{T}(ref T, T)"/>, allocating) only when a path's MTU falls, which a control message
/// causes, never a data packet. Two destinations that share a slot evict each other: the one left out simply uses
/// the link MTU until it is told again.
/// </remarks>
public sealed class PathMtuCache
{
    /// <summary>How long a learned path MTU holds: Linux's net.ipv4.route.mtu_expires and net.ipv6.route.mtu_expires.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>The lowest IPv4 path MTU taken from a message (Linux's net.ipv4.route.min_pmtu).</summary>
    public const int MinIpv4 = 552;

    /// <summary>The IPv6 minimum link MTU (RFC 8200 §5): a Packet Too Big below it is ignored, as Linux does.</summary>
    public const int MinIpv6 = 1280;

    private const int Slots = 1024;
    private readonly Entry?[] _entries = new Entry?[Slots];
    private readonly IClock _clock;

    /// <param name="clock">The stack's clock, which times the entries out.</param>
    public PathMtuCache(IClock clock) => _clock = clock;

    /// <summary>The path MTU toward an IPv4 destination: the learned one while it holds, else <paramref name="linkMtu"/>.</summary>
    public int Get(Ipv4Address destination, int linkMtu) => Get(KeyOf(destination), linkMtu);

    /// <summary>The path MTU toward an IPv6 destination: the learned one while it holds, else <paramref name="linkMtu"/>.</summary>
    public int Get(Ipv6Address destination, int linkMtu)
    {
        Entry? entry = Volatile.Read(ref _entries[Slot(destination)]);
        if (entry is null || entry.Destination != destination || entry.Expires <= _clock.Now)
            return linkMtu;
        return Math.Min(entry.Mtu, linkMtu);
    }

    /// <summary>Takes the next-hop MTU of a Fragmentation Needed about a packet we sent to <paramref name="destination"/>; true when the path MTU fell.</summary>
    public bool LearnIpv4(Ipv4Address destination, int nextHopMtu, int linkMtu) =>
        Lower(KeyOf(destination), Math.Max(nextHopMtu, MinIpv4), linkMtu);

    /// <summary>Takes the MTU of a Packet Too Big about a packet we sent to <paramref name="destination"/>; true when the path MTU fell.</summary>
    public bool LearnIpv6(Ipv6Address destination, int mtu, int linkMtu) =>
        mtu >= MinIpv6 && Lower(destination, mtu, linkMtu);

    private bool Lower(Ipv6Address key, int mtu, int linkMtu)
    {
        if (mtu >= Get(key, linkMtu))
            return false;
        Volatile.Write(ref _entries[Slot(key)], new Entry(key, mtu, _clock.Now + Lifetime));
        return true;
    }

    // IPv4 destinations share the table as IPv4-mapped addresses (RFC 4291 §2.5.5.2).
    private static Ipv6Address KeyOf(Ipv4Address destination) => new(0, 0x0000_FFFF_0000_0000UL | destination.Value);

    private static int Slot(Ipv6Address key)
    {
        ulong mixed = (key.High ^ key.Low) * 0x9E37_79B9_7F4A_7C15UL;
        return (int)(mixed >> 54);
    }

    private sealed record Entry(Ipv6Address Destination, int Mtu, TimeSpan Expires);
}
