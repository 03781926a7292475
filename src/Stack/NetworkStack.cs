using System.Collections.Frozen;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Transport;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

/// <summary>The network stack: NICs, their addresses, routes, and the protocols that run over them (gVisor <c>stack.Stack</c>).</summary>
/// <remarks>
/// Every method here is a control operation: any thread may call it, and it publishes its result
/// as immutable snapshots the workers pick up at their next batch. Workers enter only through
/// each NIC's <see cref="INetworkDispatcher.DeliverNetworkPackets"/>.
/// </remarks>
public sealed partial class NetworkStack
{
    private readonly Lock _nicsLock = new();

    // Written under _nicsLock with Volatile.Write; read anywhere.
    private FrozenDictionary<NicId, Nic> _nics = FrozenDictionary<NicId, Nic>.Empty;
    private IIpv4Forwarder? _ipv4Forwarder;
    private IIpv6Forwarder? _ipv6Forwarder;
    private long _forwardingVersion; // raised on the control path, read by workers once per batch
    private long _nonRouteVersion;   // raised with it by every change but a route table publication

    public NetworkStack(StackOptions? options = null)
    {
        Options = options ?? new StackOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.Workers, 1);
        Workers = Options.Workers;
        Clock = Options.Clock;
        _routes = new RouteTableWriter(multipath: new MultipathHash(
            Options.MultipathHashPolicy, Options.MultipathHashSeed ?? (ulong)Random.Shared.NextInt64()));
        Transports = new TransportDispatcherTable();
        Raw = new Transport.Raw.RawTable(Workers);
        Ipv6FragmentIds = new Network.Ipv6.Ipv6FragmentIdentification(Workers);
        PathMtus = new Network.PathMtuCache(Clock);
        _fragmentExpiry = new long[Workers * FragmentExpiryStride];
    }

    public StackOptions Options { get; }

    /// <summary>Worker <paramref name="worker"/>, on its own thread: runs the transport timers of that worker that are due (TCP retransmission, delayed ACK, TIME_WAIT). Returns at once when none is.</summary>
    public void PollTimers(int worker)
    {
        foreach (IWorkerTimers timers in Transports.Timers)
            timers.PollTimers(worker);
        // Fragments that will not be completed: looked at every 100 ms, so a datagram is given up (and its
        // Time Exceeded sent) at most that long after its time, whether or not more fragments come.
        TimeSpan now = Clock.Now;
        ref long next = ref _fragmentExpiry[worker * FragmentExpiryStride];
        if (now.Ticks < next)
            return;
        next = (now + FragmentExpiryInterval).Ticks;
        foreach (Nic nic in NicArray)
        {
            nic.Ipv4.ExpireFragments(worker);
            nic.Ipv6.ExpireFragments(worker);
        }
    }

    private static readonly TimeSpan FragmentExpiryInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long <paramref name="worker"/> may sleep before one of its transports' timers (TCP's retransmission,
    /// delayed-ACK, reordering and application timers) falls due, at most <paramref name="horizon"/>: an idle worker
    /// that sleeps its full idle period would run them that much late. Worker thread only.
    /// </summary>
    public TimeSpan UntilNextTimer(int worker, TimeSpan horizon)
    {
        long us = horizon.Ticks / 10;
        foreach (IWorkerTimers timers in Transports.Timers)
            us = Math.Min(us, timers.MicrosecondsUntilNextTimer(worker, us));
        return TimeSpan.FromTicks(Math.Max(0, us) * 10);
    }
    // Per worker, a cache line apart: when each next looks for expired fragments.
    private const int FragmentExpiryStride = 8;
    private readonly long[] _fragmentExpiry;

    public int Workers { get; }

    public IClock Clock { get; }

    /// <summary>Transport protocols registered to receive local IPv4 packets.</summary>
    public TransportDispatcherTable Transports { get; }

    /// <summary>Raw endpoints, which see packets of their protocol before the transports do.</summary>
    public Transport.Raw.RawTable Raw { get; }

    // Stack-wide rather than per NIC: one source may reach one destination through several NICs.
    internal Network.Ipv6.Ipv6FragmentIdentification Ipv6FragmentIds { get; }

    /// <summary>Path MTUs learned for the stack's own packets from Fragmentation Needed and Packet Too Big.</summary>
    public Network.PathMtuCache PathMtus { get; }

    /// <summary>Where packets not addressed to us go when the receiving NIC forwards IPv6 (raising <see cref="ForwardingStateChanged"/> when set, like <see cref="Ipv4Forwarder"/>); null drops them as invalid destinations.</summary>
    public IIpv6Forwarder? Ipv6Forwarder
    {
        get => Volatile.Read(ref _ipv6Forwarder);
        set
        {
            Volatile.Write(ref _ipv6Forwarder, value);
            OnForwardingStateChanged();
        }
    }

    /// <summary>Where packets not addressed to us go when the receiving NIC forwards IPv4; null drops them as invalid destinations.</summary>
    public IIpv4Forwarder? Ipv4Forwarder
    {
        get => Volatile.Read(ref _ipv4Forwarder);
        set
        {
            Volatile.Write(ref _ipv4Forwarder, value);
            OnForwardingStateChanged();
        }
    }

    /// <summary>Raised on the calling control thread after a change of routes (IPv4 or IPv6), addresses, NICs or <see cref="Ipv4Forwarder"/> that may change how packets are forwarded.</summary>
    public event Action? ForwardingStateChanged;

    /// <summary>Raised after a change in some NIC's IPv4 neighbour cache (see <see cref="Neighbors.NeighborCache{TAddress}.Changed"/>), on whichever thread made it, workers included.</summary>
    public event Action? Ipv4NeighborsChanged;

    /// <summary>Raised after a change in some NIC's IPv6 (NDP) neighbour cache, on whichever thread made it, workers included.</summary>
    public event Action? Ipv6NeighborsChanged;

    /// <summary>Grows with every change that raises <see cref="ForwardingStateChanged"/>, before the event is raised, so a reader can tell that a view built earlier is out of date.</summary>
    public long ForwardingVersion => Volatile.Read(ref _forwardingVersion);

    /// <summary>Grows with every change that <see cref="ForwardingVersion"/> counts except route changes (addresses, NICs, forwarders, the multipath hash), before it does: a view kept up to date route by route must be rebuilt when it moves.</summary>
    internal long NonRouteVersion => Volatile.Read(ref _nonRouteVersion);

    private void OnForwardingStateChanged()
    {
        Interlocked.Increment(ref _nonRouteVersion);
        OnRoutesChanged();
    }

    // Route publications carry their own change lists (RouteTable.Ipv4Changes), so they leave NonRouteVersion alone.
    private void OnRoutesChanged()
    {
        Interlocked.Increment(ref _forwardingVersion);
        ForwardingStateChanged?.Invoke();
    }

    internal void OnIpv4NeighborsChanged() => Ipv4NeighborsChanged?.Invoke();

    internal void OnIpv6NeighborsChanged() => Ipv6NeighborsChanged?.Invoke();

    // The NICs now, as an array the data path can walk without allocating.
    internal System.Collections.Immutable.ImmutableArray<Nic> NicArray => Volatile.Read(ref _nics).Values;

    /// <summary>The NICs now, by id.</summary>
    public IReadOnlyDictionary<NicId, Nic> Nics => Volatile.Read(ref _nics);

    /// <summary>Creates a NIC over <paramref name="link"/> and attaches it; ids must be unique and non-zero, names unique (behaviour 12).</summary>
    public StackError CreateNic(NicId id, ILinkEndpoint link, string? name = null, bool enabled = true)
    {
        if (id.IsAny)
            return StackError.UnknownNicId;
        Nic nic;
        lock (_nicsLock)
        {
            FrozenDictionary<NicId, Nic> nics = _nics;
            if (nics.ContainsKey(id))
                return StackError.DuplicateNicId;
            name ??= "nic" + id.ToString();
            foreach (Nic other in nics.Values)
            {
                if (other.Name == name)
                    return StackError.DuplicateNicName;
            }
            nic = new Nic(this, id, name, link);
            var next = new Dictionary<NicId, Nic>(nics) { [id] = nic };
            Volatile.Write(ref _nics, next.ToFrozenDictionary());
        }
        link.Attach(nic);
        if (enabled)
            nic.Enable();
        OnForwardingStateChanged();
        return StackError.None;
    }

    /// <summary>Disables, detaches and forgets a NIC.</summary>
    public StackError RemoveNic(NicId id)
    {
        Nic? nic;
        lock (_nicsLock)
        {
            if (!_nics.TryGetValue(id, out nic))
                return StackError.UnknownNicId;
            var next = new Dictionary<NicId, Nic>(_nics);
            next.Remove(id);
            Volatile.Write(ref _nics, next.ToFrozenDictionary());
        }
        nic.Disable();
        nic.Link.Attach(null);
        RemoveRoutesThrough(id);
        OnForwardingStateChanged();
        return StackError.None;
    }

    public StackError EnableNic(NicId id) => WithNic(id, nic => nic.Enable());

    /// <summary>Disables a NIC: it counts and drops what it receives, leaves its groups and forgets its neighbours (behaviours 11, 13, 14).</summary>
    public StackError DisableNic(NicId id) => WithNic(id, nic => nic.Disable());

    public bool TryGetNic(NicId id, out Nic nic)
    {
        bool found = Volatile.Read(ref _nics).TryGetValue(id, out Nic? n);
        nic = n!;
        return found;
    }

    public Nic? FindNic(string name)
    {
        foreach (Nic nic in Volatile.Read(ref _nics).Values)
        {
            if (nic.Name == name)
                return nic;
        }
        return null;
    }

    public StackError AddAddress(NicId id, AddressWithPrefix address, PrimaryEndpointBehavior behavior = PrimaryEndpointBehavior.CanBePrimary) =>
        Changing(TryGetNic(id, out Nic nic) ? nic.AddAddress(address, behavior) : StackError.UnknownNicId);

    public StackError AddAddress(NicId id, IpAddress address, int prefixLength, PrimaryEndpointBehavior behavior = PrimaryEndpointBehavior.CanBePrimary) =>
        AddAddress(id, new AddressWithPrefix(address, prefixLength), behavior);

    public StackError RemoveAddress(NicId id, IpAddress address) =>
        Changing(TryGetNic(id, out Nic nic) ? nic.RemoveAddress(address) : StackError.UnknownNicId);

    /// <summary>The main address of a NIC for a protocol (behaviour 3); UnknownNicId, or None with a null address when it has none.</summary>
    public StackError GetMainAddress(NicId id, EtherType protocol, out AddressWithPrefix? address)
    {
        address = null;
        if (!TryGetNic(id, out Nic nic))
            return StackError.UnknownNicId;
        address = nic.MainAddress(protocol);
        return StackError.None;
    }

    public StackError SetPromiscuous(NicId id, bool enable) => WithNic(id, nic => nic.SetPromiscuous(enable));

    public StackError SetSpoofing(NicId id, bool enable) => WithNic(id, nic => nic.SetSpoofing(enable));

    public StackError AddSubnet(NicId id, Ipv4Prefix subnet) => WithNic(id, nic => nic.AddSubnet(subnet));

    public StackError RemoveSubnet(NicId id, Ipv4Prefix subnet) =>
        Changing(!TryGetNic(id, out Nic nic) ? StackError.UnknownNicId : nic.RemoveSubnet(subnet) ? StackError.None : StackError.BadAddress);

    public StackError JoinGroup(NicId id, IpAddress group) =>
        TryGetNic(id, out Nic nic) ? nic.JoinGroup(group) : StackError.UnknownNicId;

    public StackError LeaveGroup(NicId id, IpAddress group) =>
        TryGetNic(id, out Nic nic) ? nic.LeaveGroup(group) : StackError.UnknownNicId;

    /// <summary>Turns forwarding of <paramref name="protocol"/> on or off for one NIC and reports the value before (behaviour 21).</summary>
    public StackError SetForwarding(NicId id, EtherType protocol, bool enable, out bool previous)
    {
        previous = false;
        if (protocol != EtherType.Ipv4 && protocol != EtherType.Ipv6)
            return StackError.UnknownProtocol;
        if (!TryGetNic(id, out Nic nic))
            return StackError.UnknownNicId;
        previous = nic.SetForwarding(protocol, enable);
        OnForwardingStateChanged();
        return StackError.None;
    }

    public StackError IsForwarding(NicId id, EtherType protocol, out bool enabled)
    {
        enabled = false;
        if (!TryGetNic(id, out Nic nic))
            return StackError.UnknownNicId;
        enabled = nic.IsForwarding(protocol);
        return StackError.None;
    }

    private StackError WithNic(NicId id, Action<Nic> action)
    {
        if (!TryGetNic(id, out Nic nic))
            return StackError.UnknownNicId;
        action(nic);
        OnForwardingStateChanged();
        return StackError.None;
    }

    // Control calls that changed something report it; a failed one changed nothing.
    private StackError Changing(StackError result)
    {
        if (result == StackError.None)
            OnForwardingStateChanged();
        return result;
    }
}
