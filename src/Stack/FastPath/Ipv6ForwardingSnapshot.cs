using XdpStack.Stack.Link;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>An immutable view of the stack for the IPv6 fast path: an LPM from destination to resolved next hop, and the receiving NICs.</summary>
/// <remarks>
/// Built on a control thread, for <see cref="Ipv6Forwarder"/>, from the IPv6 route table, the NICs' addresses and their NDP neighbour
/// caches. Anything the fast path cannot decide exactly as the full stack would (a local address of
/// any NIC, a subnet-router anycast address, an on-link destination with no resolved neighbour, a
/// gateway not yet resolved, a best route through a disabled NIC) points at next hop 0, the
/// slow-path marker, so those packets go to the full stack, which resolves, queues or answers with ICMPv6. A
/// multipath prefix maps to a group whose 256 buckets each name the next hop the full stack's
/// <see cref="MultipathGroup"/> picks for that bucket.
/// </remarks>
public sealed class Ipv6ForwardingSnapshot
{
    internal const int SlowPath = 0;

    private Ipv6ForwardingSnapshot(Ipv6Lpm lpm, FastNextHop[] hops, int[] groupHops, MultipathHash multipath, FastIngress[] ingress, long routeVersion, long stateVersion)
    {
        GroupHops = groupHops;
        Multipath = multipath;
        Lpm = lpm;
        Hops = hops;
        Ingress = ingress;
        RouteVersion = routeVersion;
        StateVersion = stateVersion;
    }

    /// <summary>An empty snapshot: every frame goes to the full stack.</summary>
    public static Ipv6ForwardingSnapshot Empty { get; } = new(new Ipv6LpmBuilder().Build(), [default], [], default, [], 0, -1);

    /// <summary>Destination to index into <see cref="Hops"/>.</summary>
    public Ipv6Lpm Lpm { get; }

    /// <summary>Next hops; index 0 is the slow-path marker.</summary>
    public FastNextHop[] Hops { get; }

    /// <summary>Per multipath group, the index into <see cref="Hops"/> of each of its 256 buckets (<see cref="FastMultipathTable"/>).</summary>
    internal int[] GroupHops { get; }

    /// <summary>The flow hash of the route table this snapshot was built from.</summary>
    public MultipathHash Multipath { get; }

    /// <summary>Receiving NICs by id.</summary>
    public FastIngress[] Ingress { get; }

    /// <summary>The <see cref="RouteTable.Version"/> this snapshot was built from.</summary>
    public long RouteVersion { get; }

    /// <summary>The <see cref="NetworkStack.ForwardingVersion"/> read before this snapshot was built: when the stack's is newer, the snapshot may be out of date.</summary>
    public long StateVersion { get; }

    /// <summary>Builds a snapshot of <paramref name="stack"/> as it is now.</summary>
    public static Ipv6ForwardingSnapshot Build(NetworkStack stack)
    {
        // Read first: a change made while building leaves the stack's version ahead of this one.
        long stateVersion = stack.ForwardingVersion;
        return Build(stack, stateVersion, stack.Routes, useHugePages: false);
    }

    /// <summary>The same tables under newer versions: nothing they hold changed between.</summary>
    internal Ipv6ForwardingSnapshot WithVersions(long routeVersion, long stateVersion) =>
        new(Lpm, Hops, GroupHops, Multipath, Ingress, routeVersion, stateVersion);

    // A NIC with no link-local address sends no Redirect (RFC 4861 §4.5 needs one as the source), so what goes back
    // out of it needs nothing the full stack adds.
    private static bool HasLinkLocal(Nic nic)
    {
        foreach (AddressEndpoint ep in nic.Addresses.Ipv6.Values)
        {
            if (ep.Kind == AddressKind.Permanent && ep.Address.V6.IsLinkLocal)
                return true;
        }
        return false;
    }

    internal static Ipv6ForwardingSnapshot Build(NetworkStack stack, long stateVersion, RouteTable table, bool useHugePages)
    {
        var filter = new EnabledNicFilter(stack);
        var builder = new Ipv6LpmBuilder(useHugePages);
        var hops = new FastNextHopTable();

        // Routes: for each prefix the first route in lookup order decides, as in RouteTable.Lookup; when its NIC
        // is down the full stack scans further, so the fast path does not try.
        var seen = new HashSet<Ipv6Prefix>();
        var onLink = new List<(Ipv6Route Route, Nic Nic)>();
        IReadOnlyList<Ipv6Route> routes = table.Ipv6Routes;
        var groups = new FastMultipathTable();
        Span<int> bucketHops = stackalloc int[MultipathGroup.BucketCount];
        for (int position = 0; position < routes.Count; position++)
        {
            Ipv6Route route = routes[position];
            if (!seen.Add(route.Destination))
                continue;
            int id = SlowPath;
            if (table.Ipv6GroupAt(position) is { } group)
            {
                // Each bucket gets the hop of the member the full stack picks for it with the NICs as they are now;
                // a group with no usable member is left to the full stack, which goes on to the next route.
                if (group.MemberFor(0, filter) >= 0)
                {
                    for (int b = 0; b < bucketHops.Length; b++)
                        bucketHops[b] = MemberHop(stack, routes[group.PositionOf(group.MemberFor(b, filter))], hops);
                    id = groups.Add(bucketHops);
                }
            }
            else if (filter.IsUsable(route.Nic) && stack.TryGetNic(new NicId(route.Nic), out Nic egress))
            {
                if ((egress.Link.Capabilities & LinkCapabilities.ResolutionRequired) == 0)
                    id = hops.Intern(egress, MacAddress.Zero);
                else if (route.IsOnLink)
                    onLink.Add((route, egress));
                else if (egress.Ipv6Neighbors.TryGetResolved(route.Gateway, out MacAddress mac))
                    id = hops.Intern(egress, mac);
            }
            builder.Add(route.Destination, id);
        }

        // On-link routes: each resolved neighbour the route would reach becomes a /128 of its own. Link-local
        // neighbours (the usual gateways) are never destinations the fast path takes, so they are skipped.
        foreach ((Ipv6Route route, Nic egress) in onLink)
        {
            foreach (NeighborInfo<Ipv6Address> neighbor in egress.Ipv6Neighbors.Snapshot())
            {
                if (!neighbor.Address.IsLinkLocal
                    && route.Destination.Contains(neighbor.Address)
                    && ReferenceEquals(table.Lookup(neighbor.Address, filter), route)
                    && egress.Ipv6Neighbors.TryGetResolved(neighbor.Address, out MacAddress mac))
                    builder.Add(new Ipv6Prefix(neighbor.Address, 128), hops.Intern(egress, mac));
            }
        }

        // Local destinations, on any NIC and in any state (tentative and expired too): the full stack delivers or
        // drops them. So does every Subnet-Router anycast address (RFC 4291 §2.6.1, the prefix with a zero interface
        // identifier), which a router may own.
        int maxId = 0;
        foreach (Nic nic in stack.NicArray)
        {
            maxId = Math.Max(maxId, nic.Id.Value);
            foreach (AddressEndpoint endpoint in nic.Addresses.Ipv6.Values)
            {
                Ipv6Address address = endpoint.Address.V6;
                builder.Add(new Ipv6Prefix(address, 128), SlowPath);
                if (endpoint.PrefixLength is > 0 and < 128)
                    builder.Add(new Ipv6Prefix(Ipv6Prefix.Containing(address, endpoint.PrefixLength).Address, 128), SlowPath);
            }
        }

        var ingress = new FastIngress[maxId + 1];
        // The fast path mirrors Ipv6Forwarder; under any other forwarder, or none, the full stack decides everything.
        bool forwarderInstalled = stack.Ipv6Forwarder is Ipv6Forwarder;
        foreach (Nic nic in stack.NicArray)
            ingress[nic.Id.Value] = FastIngress.For(nic, EtherType.Ipv6, forwarderInstalled, hairpinAllowed: !stack.Options.SendRedirects || !HasLinkLocal(nic));
        return new Ipv6ForwardingSnapshot(builder.Build(), hops.ToArray(), groups.ToArray(), table.Multipath, ingress, table.Version, stateVersion);
    }

    // A multipath member's hop: its gateway's MAC when resolved. An on-link member would need one entry per
    // neighbour and per bucket, so its flows go to the full stack, which picks the same member and resolves.
    private static int MemberHop(NetworkStack stack, Ipv6Route member, FastNextHopTable hops)
    {
        if (!stack.TryGetNic(new NicId(member.Nic), out Nic egress))
            return SlowPath;
        if ((egress.Link.Capabilities & LinkCapabilities.ResolutionRequired) == 0)
            return hops.Intern(egress, MacAddress.Zero);
        if (!member.IsOnLink && egress.Ipv6Neighbors.TryGetResolved(member.Gateway, out MacAddress mac))
            return hops.Intern(egress, mac);
        return SlowPath;
    }
}
