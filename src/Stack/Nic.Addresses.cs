using System.Collections.Frozen;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

// Address endpoints, subnets and multicast groups: control path only, all under _controlLock.
public sealed partial class Nic
{
    // Control thread only, under _controlLock.
    private readonly Dictionary<IpAddress, AddressEndpoint> _endpoints = [];
    private readonly List<AddressEndpoint> _primaryIpv4 = [];
    private readonly List<AddressEndpoint> _primaryIpv6 = [];
    private readonly List<Ipv4Prefix> _subnets = [];
    private readonly Dictionary<IpAddress, int> _joins = [];

    // Written under _controlLock with Volatile.Write, read by workers once per batch.
    private AddressSnapshot _snapshot = AddressSnapshot.Empty;

    /// <summary>Adds a permanent address, or promotes an expired or temporary one to permanent with the new behaviour (behaviours 1, 2).</summary>
    internal StackError AddAddress(AddressWithPrefix address, PrimaryEndpointBehavior behavior)
    {
        if (!IsValidPrefix(address))
            return StackError.BadAddress;
        StackError error;
        lock (_controlLock)
        {
            error = AddAddressLocked(address, behavior, AddressKind.Permanent, out _);
            if (error == StackError.None)
            {
                // RFC 4861 §7.2.1: a node joins the solicited-node group of each of its addresses,
                // counted like any other join so two addresses sharing a group both hold it.
                if (address.Address.IsIpv6 && address.Address.V6.IsUnicast)
                    JoinLocked(address.Address.V6.SolicitedNodeMulticast);
                PublishLocked();
            }
        }
        if (error == StackError.None && address.Address.IsIpv4 && _enabled)
            Arp.Announce(address.Address.V4);
        return error;
    }

    /// <summary>Expires a permanent address; it leaves the NIC with the last route holding it (behaviour 5).</summary>
    internal StackError RemoveAddress(IpAddress address)
    {
        lock (_controlLock)
        {
            StackError error = RemovePermanentAddressLocked(address);
            if (error == StackError.None)
                PublishLocked();
            return error;
        }
    }

    /// <summary>
    /// Returns a referenced endpoint for <paramref name="address"/> usable as a source, creating a
    /// temporary one when the NIC is spoofing or the address lies in an added subnet; null if none.
    /// The caller owns the reference (the seed's <c>findEndpoint</c>).
    /// </summary>
    internal AddressEndpoint? AcquireOutgoingEndpoint(IpAddress address)
    {
        AddressSnapshot snapshot = Volatile.Read(ref _snapshot);
        AddressEndpoint? existing = Find(snapshot, address);
        if (existing is not null && existing.IsValidForOutgoing && existing.TryIncRef())
            return existing;
        bool createTemporary = _spoofing || InAddedSubnet(snapshot, address);
        if (!createTemporary)
            return null;
        lock (_controlLock)
        {
            if (_endpoints.TryGetValue(address, out AddressEndpoint? current))
            {
                // Expired endpoints are fine here: spoofing or the subnet allows the address anyway.
                if (current.TryIncRef())
                    return current;
                // A zero-count zombie waiting for this lock: replace it; its own removal will
                // then find a different object in the map and do nothing.
                RemoveFromMapLocked(current);
            }
            AddAddressLocked(new AddressWithPrefix(address, address.BitLength), PrimaryEndpointBehavior.CanBePrimary, AddressKind.Temporary, out AddressEndpoint? created);
            PublishLocked();
            return created;
        }
    }

    /// <summary>The first usable primary address of the protocol, referenced for the caller; null if none (the seed's <c>primaryEndpoint</c>).</summary>
    internal AddressEndpoint? AcquirePrimaryEndpoint(EtherType protocol)
    {
        AddressSnapshot snapshot = Volatile.Read(ref _snapshot);
        IReadOnlyList<AddressEndpoint> primary = protocol == EtherType.Ipv4 ? snapshot.PrimaryIpv4 : snapshot.PrimaryIpv6;
        foreach (AddressEndpoint ep in primary)
        {
            if (ep.Address.IsIpv4 && (ep.Address.V4.IsBroadcast || ep.Address.V4.IsUnspecified))
                continue;
            if (ep.IsValidForOutgoing && ep.TryIncRef())
                return ep;
        }
        return null;
    }

    /// <summary>The main address: the first permanent primary address of the protocol, or null (behaviour 3).</summary>
    public AddressWithPrefix? MainAddress(EtherType protocol)
    {
        AddressSnapshot snapshot = Volatile.Read(ref _snapshot);
        IReadOnlyList<AddressEndpoint> primary = protocol == EtherType.Ipv4 ? snapshot.PrimaryIpv4 : snapshot.PrimaryIpv6;
        foreach (AddressEndpoint ep in primary)
        {
            if (ep.Kind == AddressKind.Permanent)
                return ep.AddressWithPrefix;
        }
        return null;
    }

    /// <summary>The permanent addresses of the NIC; expired and temporary ones are left out, as in the seed.</summary>
    public IReadOnlyList<AddressWithPrefix> AllAddresses()
    {
        AddressSnapshot snapshot = Volatile.Read(ref _snapshot);
        var result = new List<AddressWithPrefix>();
        foreach (AddressEndpoint ep in snapshot.Ipv4.Values)
        {
            if (ep.Kind == AddressKind.Permanent)
                result.Add(ep.AddressWithPrefix);
        }
        foreach (AddressEndpoint ep in snapshot.Ipv6.Values)
        {
            if (ep.Kind == AddressKind.Permanent)
                result.Add(ep.AddressWithPrefix);
        }
        return result;
    }

    /// <summary>Permanent primary addresses in preference order, IPv4 before IPv6 (behaviour 4).</summary>
    public IReadOnlyList<AddressWithPrefix> PrimaryAddresses()
    {
        AddressSnapshot snapshot = Volatile.Read(ref _snapshot);
        var result = new List<AddressWithPrefix>();
        foreach (AddressEndpoint ep in snapshot.PrimaryIpv4)
        {
            if (ep.Kind == AddressKind.Permanent)
                result.Add(ep.AddressWithPrefix);
        }
        foreach (AddressEndpoint ep in snapshot.PrimaryIpv6)
        {
            if (ep.Kind == AddressKind.Permanent)
                result.Add(ep.AddressWithPrefix);
        }
        return result;
    }

    /// <summary>The endpoint of <paramref name="address"/> in any state, or null; for inspection and tests.</summary>
    public AddressEndpoint? FindEndpoint(IpAddress address) => Find(Volatile.Read(ref _snapshot), address);

    /// <summary>True if the NIC has <paramref name="address"/> as a permanent address.</summary>
    public bool HasAddress(IpAddress address) => FindEndpoint(address)?.Kind == AddressKind.Permanent;

    internal void AddSubnet(Ipv4Prefix subnet)
    {
        lock (_controlLock)
        {
            _subnets.Add(subnet);
            PublishLocked();
        }
    }

    internal bool RemoveSubnet(Ipv4Prefix subnet)
    {
        lock (_controlLock)
        {
            bool removed = _subnets.RemoveAll(s => s == subnet) > 0;
            PublishLocked();
            return removed;
        }
    }

    /// <summary>Added subnets plus a full-length subnet per IPv4 endpoint, as the seed's <c>Subnets</c> reports them.</summary>
    public IReadOnlyList<Ipv4Prefix> Subnets()
    {
        AddressSnapshot snapshot = Volatile.Read(ref _snapshot);
        var result = new List<Ipv4Prefix>();
        foreach (Ipv4Address address in snapshot.Ipv4.Keys)
            result.Add(new Ipv4Prefix(address, 32));
        result.AddRange(snapshot.Ipv4Subnets);
        return result;
    }

    public bool ContainsSubnet(Ipv4Prefix subnet) => Subnets().Contains(subnet);

    /// <summary>Counts a join; the first one makes the group receive (behaviour 14).</summary>
    internal StackError JoinGroup(IpAddress group)
    {
        if (!group.IsMulticast)
            return StackError.BadAddress;
        lock (_controlLock)
        {
            JoinLocked(group);
            PublishLocked();
            return StackError.None;
        }
    }

    /// <summary>Counts a leave; the group stops receiving when the joins reach zero.</summary>
    internal StackError LeaveGroup(IpAddress group)
    {
        lock (_controlLock)
        {
            if (!LeaveLocked(group))
                return StackError.BadLocalAddress;
            PublishLocked();
            return StackError.None;
        }
    }

    /// <summary>How many joins <paramref name="group"/> holds now (solicited-node joins included).</summary>
    public int GroupJoins(IpAddress group)
    {
        lock (_controlLock)
            return _joins.GetValueOrDefault(group);
    }

    private void JoinLocked(IpAddress group) => _joins[group] = _joins.GetValueOrDefault(group) + 1;

    private bool LeaveLocked(IpAddress group)
    {
        int joins = _joins.GetValueOrDefault(group);
        if (joins == 0)
            return false;
        if (joins == 1)
            _joins.Remove(group);
        else
            _joins[group] = joins - 1;
        return true;
    }

    /// <summary>True while the NIC is enabled and has at least one join of <paramref name="group"/>.</summary>
    public bool IsInGroup(IpAddress group)
    {
        AddressSnapshot snapshot = Volatile.Read(ref _snapshot);
        return group.IsIpv4 ? snapshot.Ipv4Groups.Contains(group.V4) : snapshot.Ipv6Groups.Contains(group.V6);
    }

    /// <summary>Removes a dead endpoint if the map still holds this very object (the seed's <c>removeEndpointLocked</c>).</summary>
    internal void RemoveEndpointIfCurrent(AddressEndpoint endpoint)
    {
        lock (_controlLock)
            RemoveEndpointIfCurrentLocked(endpoint);
    }

    internal void RemoveEndpointIfCurrentLocked(AddressEndpoint endpoint)
    {
        if (!_endpoints.TryGetValue(endpoint.Address, out AddressEndpoint? current) || !ReferenceEquals(current, endpoint))
            return;
        if (endpoint.Kind == AddressKind.Permanent)
            throw new InvalidOperationException($"{endpoint.AddressWithPrefix} reached zero references while permanent");
        RemoveFromMapLocked(endpoint);
        PublishLocked();
    }

    private StackError AddAddressLocked(AddressWithPrefix address, PrimaryEndpointBehavior behavior, AddressKind kind, out AddressEndpoint? endpoint)
    {
        endpoint = null;
        if (_endpoints.TryGetValue(address.Address, out AddressEndpoint? existing))
        {
            if (kind != AddressKind.Permanent || existing.Kind == AddressKind.Permanent)
                return StackError.DuplicateAddress;
            // Expired or temporary: promote it, taking back the permanent bias (behaviour 2).
            if (existing.TryIncRef())
            {
                existing.SetKind(AddressKind.Permanent);
                existing.Behavior = behavior;
                PlaceInPrimaryLocked(existing);
                endpoint = existing;
                return StackError.None;
            }
            RemoveFromMapLocked(existing);
        }
        endpoint = new AddressEndpoint(this, address, behavior, kind);
        _endpoints.Add(address.Address, endpoint);
        PlaceInPrimaryLocked(endpoint);
        return StackError.None;
    }

    private StackError RemovePermanentAddressLocked(IpAddress address)
    {
        if (!_endpoints.TryGetValue(address, out AddressEndpoint? endpoint) || endpoint.Kind != AddressKind.Permanent)
            return StackError.BadLocalAddress;
        endpoint.SetKind(AddressKind.PermanentExpired);
        if (address.IsIpv6 && address.V6.IsUnicast)
            LeaveLocked(address.V6.SolicitedNodeMulticast);
        // Drop the permanent bias; with no route holding it the endpoint goes at once.
        endpoint.DecRefLocked();
        return StackError.None;
    }

    private void RemoveFromMapLocked(AddressEndpoint endpoint)
    {
        _endpoints.Remove(endpoint.Address);
        (endpoint.Address.IsIpv4 ? _primaryIpv4 : _primaryIpv6).Remove(endpoint);
    }

    private void PlaceInPrimaryLocked(AddressEndpoint endpoint)
    {
        List<AddressEndpoint> primary = endpoint.Address.IsIpv4 ? _primaryIpv4 : _primaryIpv6;
        primary.Remove(endpoint);
        switch (endpoint.Behavior)
        {
            case PrimaryEndpointBehavior.CanBePrimary:
                primary.Add(endpoint);
                break;
            case PrimaryEndpointBehavior.FirstPrimary:
                primary.Insert(0, endpoint);
                break;
        }
    }

    /// <summary>Builds and publishes a new snapshot; callers hold <c>_controlLock</c>.</summary>
    private void PublishLocked()
    {
        var ipv4 = new Dictionary<Ipv4Address, AddressEndpoint>();
        var ipv6 = new Dictionary<Ipv6Address, AddressEndpoint>();
        var broadcasts = new HashSet<Ipv4Address>();
        foreach (AddressEndpoint ep in _endpoints.Values)
        {
            if (ep.Address.IsIpv4)
            {
                ipv4[ep.Address.V4] = ep;
                if (ep.Kind == AddressKind.Permanent && ep.PrefixLength <= 30)
                    broadcasts.Add(Ipv4Prefix.Containing(ep.Address.V4, ep.PrefixLength).LastAddress);
            }
            else
            {
                ipv6[ep.Address.V6] = ep;
            }
        }
        var groups4 = new HashSet<Ipv4Address>();
        var groups6 = new HashSet<Ipv6Address>();
        if (_enabled)
        {
            // Disabling leaves the groups but keeps the counts, so enabling rejoins them (behaviour 14).
            foreach (IpAddress group in _joins.Keys)
            {
                if (group.IsIpv4)
                    groups4.Add(group.V4);
                else
                    groups6.Add(group.V6);
            }
        }
        var snapshot = new AddressSnapshot(
            ipv4.ToFrozenDictionary(), ipv6.ToFrozenDictionary(),
            [.. _primaryIpv4], [.. _primaryIpv6],
            broadcasts.ToFrozenSet(), [.. _subnets],
            groups4.ToFrozenSet(), groups6.ToFrozenSet());
        Volatile.Write(ref _snapshot, snapshot);
    }

    private static AddressEndpoint? Find(AddressSnapshot snapshot, IpAddress address) =>
        address.IsIpv4 ? snapshot.Ipv4.GetValueOrDefault(address.V4) : snapshot.Ipv6.GetValueOrDefault(address.V6);

    private static bool InAddedSubnet(AddressSnapshot snapshot, IpAddress address)
    {
        if (!address.IsIpv4)
            return false;
        foreach (Ipv4Prefix subnet in snapshot.Ipv4Subnets)
        {
            if (subnet.Contains(address.V4))
                return true;
        }
        return false;
    }

    private static bool IsValidPrefix(AddressWithPrefix address) =>
        address.PrefixLength >= 0 && address.PrefixLength <= address.Address.BitLength;
}
