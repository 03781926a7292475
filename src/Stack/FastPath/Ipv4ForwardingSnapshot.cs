using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.FastPath;

/// <summary>An immutable view of the stack for the IPv4 fast path: an LPM from destination to resolved next hop, the receiving NICs, and the sources the full stack would refuse.</summary>
/// <remarks>
/// Built on a control thread from the route table, the NICs' addresses and their neighbour caches.
/// Anything the fast path cannot decide exactly as <see cref="Network.Ipv4.Ipv4Forwarder"/> would (a local
/// address, a subnet broadcast, an on-link destination with no resolved neighbour, a gateway not
/// yet resolved, a best route through a disabled NIC) points at next hop 0, the slow-path marker,
/// so those packets go to the full stack, which resolves, queues or answers with ICMP. A multipath prefix maps to a
/// group whose 256 buckets each name the next hop the full stack's <see cref="MultipathGroup"/> picks for that bucket.
/// </remarks>
public sealed class Ipv4ForwardingSnapshot
{
    internal const int SlowPath = 0;

    internal Ipv4ForwardingSnapshot(Ipv4Lpm lpm, FastNextHop[] hops, int[] groupHops, MultipathHash multipath, FastIngress[] ingress, uint[] refusedSources, long routeVersion, long stateVersion)
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

    /// <summary>Next hops; index 0 is the slow-path marker, and entries past the last hop in use are spare room that later snapshots may fill.</summary>
    public FastNextHop[] Hops { get; }

    /// <summary>Per multipath group, the index into <see cref="Hops"/> of each of its 256 buckets (<see cref="FastMultipathTable"/>).</summary>
    internal int[] GroupHops { get; }

    /// <summary>The flow hash of the route table this snapshot was built from.</summary>
    public MultipathHash Multipath { get; }

    /// <summary>Receiving NICs by id.</summary>
    public FastIngress[] Ingress { get; }

    /// <summary>Subnet broadcast addresses and addresses of every NIC (host order): the full stack drops packets from them (behaviour 35, and Linux's martian sources).</summary>
    public uint[] RefusedSources { get; }

    /// <summary>The <see cref="RouteTable.Version"/> this snapshot was built from.</summary>
    public long RouteVersion { get; }

    /// <summary>The <see cref="NetworkStack.ForwardingVersion"/> read before this snapshot was built: when the stack's is newer, the snapshot may be out of date.</summary>
    public long StateVersion { get; }

    /// <summary>Builds a snapshot of <paramref name="stack"/> as it is now, its LPM on 4 KiB pages.</summary>
    public static Ipv4ForwardingSnapshot Build(NetworkStack stack) => Build(stack, useHugePages: false);

    /// <summary>Builds a snapshot of <paramref name="stack"/> as it is now; <paramref name="useHugePages"/> advises transparent huge pages for its LPM (see <see cref="Ipv4LpmBuilder"/>).</summary>
    /// <remarks>Always a full build; <see cref="Ipv4FastForwarder"/> keeps its snapshot up to date with <see cref="Ipv4SnapshotMaintainer"/>, which updates it route by route where it can.</remarks>
    public static Ipv4ForwardingSnapshot Build(NetworkStack stack, bool useHugePages) =>
        new Ipv4SnapshotMaintainer(useHugePages, readers: null).Build(stack);
}
