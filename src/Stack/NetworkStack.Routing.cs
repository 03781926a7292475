using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack;

// Routes: the table is the tables branch's RouteTable, published by a RouteTableWriter; FindRoute
// follows gVisor's stack.FindRoute.
public sealed partial class NetworkStack
{
    private readonly RouteTableWriter _routes;

    /// <summary>The route table now; the data path reads it once per batch.</summary>
    public RouteTable Routes => _routes.Current;

    /// <summary>Adds an IPv4 route after existing ones of equal prefix length and metric (behaviour 16).</summary>
    public StackError AddRoute(Ipv4Route route)
    {
        if (!TryGetNic(new NicId(route.Nic), out _))
            return StackError.UnknownNicId;
        _routes.AddRoute(route);
        OnRoutesChanged();
        return StackError.None;
    }

    public StackError AddRoute(Ipv6Route route)
    {
        if (!TryGetNic(new NicId(route.Nic), out _))
            return StackError.UnknownNicId;
        _routes.AddRoute(route);
        OnRoutesChanged();
        return StackError.None;
    }

    public bool RemoveRoute(Ipv4Route route)
    {
        bool removed = _routes.RemoveRoute(route);
        if (removed)
            OnRoutesChanged();
        return removed;
    }

    public bool RemoveRoute(Ipv6Route route)
    {
        bool removed = _routes.RemoveRoute(route);
        if (removed)
            OnRoutesChanged();
        return removed;
    }

    /// <summary>Changes which header fields pick a multipath route's next hop; flows may change paths, as after a Linux fib_multipath_hash_policy change.</summary>
    public void SetMultipathHashPolicy(MultipathHashPolicy policy)
    {
        _routes.SetMultipathHash(_routes.Multipath with { Policy = policy });
        OnForwardingStateChanged();
    }

    /// <summary>Applies every change <paramref name="changes"/> makes to the routes, then publishes one table.</summary>
    /// <remarks>Unlike <see cref="AddRoute(Ipv4Route)"/> nothing checks the NICs: the caller adds only routes through NICs the stack has.</remarks>
    public void UpdateRoutes(Action<RouteTableWriter.Batch> changes)
    {
        _routes.Update(changes);
        OnRoutesChanged();
    }

    /// <summary>Replaces every route at once.</summary>
    public void SetRoutes(IEnumerable<Ipv4Route> ipv4, IEnumerable<Ipv6Route> ipv6)
    {
        _routes.SetRoutes(ipv4, ipv6);
        OnRoutesChanged();
    }

    /// <summary>
    /// Finds a route from <paramref name="localAddress"/> (unspecified: pick one) to
    /// <paramref name="remoteAddress"/>, through NIC <paramref name="nicId"/> (<see cref="NicId.Any"/>:
    /// any). The caller owns the returned route and must <see cref="Route.Release"/> it.
    /// </summary>
    /// <remarks>
    /// gVisor's rules: limited broadcast, multicast and IPv6 link-local destinations need no route
    /// when a NIC is named (behaviours 17, 19); routes through disabled NICs are skipped (15);
    /// among routes, the first whose NIC has a usable local address wins, and a route through a
    /// forwarding NIC without one is remembered as a fallback that may borrow a local address from
    /// another NIC, for locally generated traffic only (20); a local address the NIC does not own
    /// needs spoofing (9), and promiscuous reception does not make one (8).
    /// </remarks>
    public StackError FindRoute(NicId nicId, IpAddress localAddress, IpAddress remoteAddress, out Route? route)
    {
        route = null;
        if (!localAddress.IsUnspecified && localAddress.IsIpv4 != remoteAddress.IsIpv4)
            return StackError.BadAddress;
        bool isLinkLocal = remoteAddress.IsIpv6 && (remoteAddress.V6.IsLinkLocal || remoteAddress.V6.IsLinkLocalMulticast);
        bool isLimitedBroadcast = remoteAddress.IsIpv4 && remoteAddress.V4.IsBroadcast;
        bool isMulticast = remoteAddress.IsMulticast;
        bool needRoute = !(isLimitedBroadcast || isMulticast || isLinkLocal);

        if (!nicId.IsAny && !needRoute)
        {
            if (TryGetNic(nicId, out Nic nic) && nic.Enabled && AcquireLocal(nic, localAddress, remoteAddress) is { } local)
            {
                route = MakeRoute(nic, local, remoteAddress, gateway: default);
                return StackError.None;
            }
            return StackError.NetworkUnreachable;
        }

        bool onlyGlobal = !(localAddress.IsIpv6 && localAddress.V6.IsLinkLocal) && !isLinkLocal;
        RouteTable table = Routes;
        IEnumerable<(int Nic, IpAddress Gateway)> candidates = remoteAddress.IsIpv4
            ? table.FindCandidates(remoteAddress.V4).Select(r => (r.Nic, (IpAddress)r.Gateway))
            : table.FindCandidates(remoteAddress.V6).Select(r => (r.Nic, (IpAddress)r.Gateway));
        (Nic Nic, IpAddress Gateway)? fallback = null;
        foreach ((int routeNic, IpAddress gateway) in candidates)
        {
            if (!TryGetNic(new NicId(routeNic), out Nic nic) || !nic.Enabled)
                continue;
            if (nicId.IsAny || nicId.Value == routeNic)
            {
                if (AcquireLocal(nic, localAddress, remoteAddress) is { } local)
                {
                    route = MakeRoute(nic, local, remoteAddress, needRoute ? gateway : default);
                    return StackError.None;
                }
            }
            if (onlyGlobal && fallback is null && nic.IsForwarding(remoteAddress.Protocol))
                fallback = (nic, gateway);
        }

        if (fallback is { } chosen && nicId.IsAny)
        {
            foreach (Nic other in Nics.Values)
            {
                if (AcquireLocal(other, localAddress, remoteAddress) is { } local)
                {
                    route = MakeRoute(chosen.Nic, local, remoteAddress, chosen.Gateway);
                    return StackError.None;
                }
            }
        }
        return StackError.NetworkUnreachable;
    }

    /// <summary>FindRoute for IPv4 with the local address left to the stack.</summary>
    public StackError FindRoute(NicId nicId, Ipv4Address remoteAddress, out Route? route) =>
        FindRoute(nicId, Ipv4Address.Any, remoteAddress, out route);

    private void RemoveRoutesThrough(NicId id)
    {
        _routes.RemoveRoutes((Ipv4Route r) => r.Nic == id.Value);
        _routes.RemoveRoutes((Ipv6Route r) => r.Nic == id.Value);
    }

    private static AddressEndpoint? AcquireLocal(Nic nic, IpAddress localAddress, IpAddress remoteAddress) =>
        localAddress.IsUnspecified
            ? nic.AcquirePrimaryEndpoint(remoteAddress.Protocol)
            : nic.AcquireOutgoingEndpoint(localAddress);

    private static Route MakeRoute(Nic nic, AddressEndpoint local, IpAddress remote, IpAddress gateway)
    {
        bool onLink = gateway.IsUnspecified;
        IpAddress nextHop = onLink ? remote : gateway;
        MacAddress? link = null;
        if ((nic.Link.Capabilities & Link.LinkCapabilities.ResolutionRequired) == 0)
            link = MacAddress.Zero;
        else if (remote.IsIpv4 && remote.V4.IsBroadcast)
            link = MacAddress.Broadcast;
        else if (remote.IsIpv4 && remote.V4.IsMulticast)
            link = MacAddress.FromIpv4Multicast(remote.V4);
        else if (remote.IsIpv6 && remote.V6.IsMulticast)
            link = MacAddress.FromIpv6Multicast(remote.V6);
        else if (onLink && remote.IsIpv4 && IsSubnetBroadcast(local, remote.V4))
            link = MacAddress.Broadcast;
        return new Route(nic, local, local.Address, remote, nextHop, link);
    }

    // Behaviour 18: the directed broadcast of the local address's subnet goes to ff:ff:ff:ff:ff:ff;
    // /31 (RFC 3021) and /32 subnets have no broadcast address.
    private static bool IsSubnetBroadcast(AddressEndpoint local, Ipv4Address remote) =>
        local.Address.IsIpv4 && local.PrefixLength < 31
        && Ipv4Prefix.Containing(local.Address.V4, local.PrefixLength).LastAddress == remote;
}
