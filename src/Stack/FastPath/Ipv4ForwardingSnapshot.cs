using XdpStack.Stack.Link;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>An immutable view of the stack for the IPv4 fast path: an LPM from destination to resolved next hop, the receiving NICs, and the sources the full stack would refuse.</summary>
/// <remarks>
/// Built on a control thread from the route table, the NICs' addresses and their neighbour caches.
/// Anything the fast path cannot decide exactly as <see cref="Ipv4Forwarder"/> would (a local
/// address, a subnet broadcast, an on-link destination with no resolved neighbour, a gateway not
/// yet resolved, a best route through a disabled NIC) points at next hop 0, the slow-path marker,
/// so those packets go to the full stack, which resolves, queues or answers with ICMP. A multipath prefix maps to a
/// group whose 256 buckets each name the next hop the full stack's <see cref="MultipathGroup"/> picks for that bucket.
/// </remarks>
public sealed class Ipv4ForwardingSnapshot
{
    internal const int SlowPath = 0;

    private Ipv4ForwardingSnapshot(Ipv4Lpm lpm, FastNextHop[] hops, int[] groupHops, MultipathHash multipath, FastIngress[] ingress, uint[] refusedSources, long routeVersion, long stateVersion)
    {
        GroupHops = groupHops;
        Multipath = multipath;
        StateVersion = stateVersion;
        Lpm = lpm;
        Hops = hops;
        Ingress = ingress;
        RefusedSources = refusedSources;
        RouteVersion = routeVersion;
    }

    /// <summary>An empty snapshot: every frame goes to the full stack.</summary>
    public static Ipv4ForwardingSnapshot Empty { get; } = new(new Ipv4LpmBuilder(useHugePages: false).Build(), [default], [], default, [], [], 0, -1);

    /// <summary>Destination (host order) to index into <see cref="Hops"/>.</summary>
    public Ipv4Lpm Lpm { get; }

    /// <summary>Next hops; index 0 is the slow-path marker.</summary>
    public FastNextHop[] Hops { get; }

    /// <summary>Per multipath group, the index into <see cref="Hops"/> of each of its 256 buckets (<see cref="FastMultipathTable"/>).</summary>
    internal int[] GroupHops { get; }

    /// <summary>The flow hash of the route table this snapshot was built from.</summary>
    public MultipathHash Multipath { get; }

    /// <summary>Receiving NICs by id.</summary>
    public FastIngress[] Ingress { get; }

    /// <summary>Subnet broadcast addresses of every NIC (host order): the full stack drops packets from them (behaviour 35).</summary>
    public uint[] RefusedSources { get; }

    /// <summary>The <see cref="RouteTable.Version"/> this snapshot was built from.</summary>
    public long RouteVersion { get; }

    /// <summary>The <see cref="NetworkStack.ForwardingVersion"/> read before this snapshot was built: when the stack's is newer, the snapshot may be out of date.</summary>
    public long StateVersion { get; }

    /// <summary>Builds a snapshot of <paramref name="stack"/> as it is now, its LPM on 4 KiB pages.</summary>
    public static Ipv4ForwardingSnapshot Build(NetworkStack stack) => Build(stack, useHugePages: false);

    /// <summary>Builds a snapshot of <paramref name="stack"/> as it is now; <paramref name="useHugePages"/> advises transparent huge pages for its LPM (see <see cref="Ipv4LpmBuilder"/>).</summary>
    public static Ipv4ForwardingSnapshot Build(NetworkStack stack, bool useHugePages)
    {
        // Read first: a change made while building leaves the stack's version ahead of this one.
        long stateVersion = stack.ForwardingVersion;
        RouteTable table = stack.Routes;
        var filter = new EnabledNicFilter(stack);
        var builder = new Ipv4LpmBuilder(useHugePages);
        var hops = new FastNextHopTable();

        // Routes: for each prefix, the first route in lookup order decides, as in RouteTable.Lookup;
        // when its NIC is down the full stack scans further, so the fast path does not try.
        var seen = new HashSet<Ipv4Prefix>();
        var onLink = new List<(Ipv4Route Route, Nic Nic)>();
        IReadOnlyList<Ipv4Route> routes = table.Ipv4Routes;
        var groups = new FastMultipathTable();
        Span<int> bucketHops = stackalloc int[MultipathGroup.BucketCount];
        for (int position = 0; position < routes.Count; position++)
        {
            Ipv4Route route = routes[position];
            if (!seen.Add(route.Destination))
                continue;
            int id = SlowPath;
            if (table.Ipv4GroupAt(position) is { } group)
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
                else if (egress.Neighbors.TryGetResolved(route.Gateway, out MacAddress mac))
                    id = hops.Intern(egress, mac);
            }
            builder.Add(route.Destination, id);
        }

        // On-link routes: each resolved neighbour the route would reach becomes a /32 of its own.
        foreach ((Ipv4Route route, Nic egress) in onLink)
        {
            foreach (NeighborInfo<Ipv4Address> neighbor in egress.Neighbors.Snapshot())
            {
                if (route.Destination.Contains(neighbor.Address)
                    && ReferenceEquals(table.Lookup(neighbor.Address, filter), route)
                    && egress.Neighbors.TryGetResolved(neighbor.Address, out MacAddress mac))
                    builder.Add(new Ipv4Prefix(neighbor.Address, 32), hops.Intern(egress, mac));
            }
        }

        // Local destinations, on any NIC: the full stack delivers them (behaviour 32).
        var refused = new List<uint>();
        int maxId = 0;
        foreach (Nic nic in stack.NicArray)
        {
            maxId = Math.Max(maxId, nic.Id.Value);
            AddressSnapshot addresses = nic.Addresses;
            foreach (Ipv4Address address in addresses.Ipv4.Keys)
                builder.Add(new Ipv4Prefix(address, 32), SlowPath);
            foreach (Ipv4Address broadcast in addresses.Ipv4SubnetBroadcasts)
            {
                builder.Add(new Ipv4Prefix(broadcast, 32), SlowPath);
                refused.Add(broadcast.Value);
            }
            foreach (Ipv4Prefix subnet in addresses.Ipv4Subnets)
            {
                // Everything inside an accepted subnet is local, longer rules too.
                foreach ((uint prefix, int length, int _) in builder.Rules().ToArray())
                {
                    if (length >= subnet.Length && subnet.Contains(new Ipv4Address(prefix)))
                        builder.Add(prefix, length, SlowPath);
                }
                builder.Add(subnet, SlowPath);
            }
        }

        var ingress = new FastIngress[maxId + 1];
        // The fast path mirrors Ipv4Forwarder; under any other forwarder the full stack decides everything.
        bool forwarderInstalled = stack.Ipv4Forwarder is Ipv4Forwarder;
        foreach (Nic nic in stack.NicArray)
            ingress[nic.Id.Value] = FastIngress.For(nic, EtherType.Ipv4, forwarderInstalled, hairpinAllowed: !stack.Options.SendRedirects);
        return new Ipv4ForwardingSnapshot(builder.Build(), hops.ToArray(), groups.ToArray(), table.Multipath, ingress, [.. refused], table.Version, stateVersion);
    }

    // A multipath member's hop: its gateway's MAC when resolved. An on-link member would need one entry per
    // neighbour and per bucket, so its flows go to the full stack, which picks the same member and resolves.
    private static int MemberHop(NetworkStack stack, Ipv4Route member, FastNextHopTable hops)
    {
        if (!stack.TryGetNic(new NicId(member.Nic), out Nic egress))
            return SlowPath;
        if ((egress.Link.Capabilities & LinkCapabilities.ResolutionRequired) == 0)
            return hops.Intern(egress, MacAddress.Zero);
        if (!member.IsOnLink && egress.Neighbors.TryGetResolved(member.Gateway, out MacAddress mac))
            return hops.Intern(egress, mac);
        return SlowPath;
    }
}
