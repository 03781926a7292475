using System.Net.Sockets;
using XdpStack.Appliance.Routing;
using XdpStack.Stack;
using XdpStack.Xdp.Routes;

namespace XdpStack.Fuzz.Targets;

/// <summary>
/// The route message reader of the kernel FIB sync: a datagram of netlink messages through KernelRouteMonitor.Read
/// (framing and KernelRouteParser), and every route it yields through the sync's mirror into stack routes.
/// </summary>
/// <remarks>The input is one datagram as recv returns it; ifindexes 1 to 4 stand for NICs 1 and 2, others are foreign.</remarks>
internal sealed class NetlinkRouteTarget : FuzzTarget
{
    public override string Name => "netlink-route";

    public override string Covers => "KernelRouteMonitor.Read, KernelRouteParser.TryParse, KernelFibMirror: never throws; routes are well-formed";

    public override int MaxLength => 8192;

    public override void Run(ReadOnlySpan<byte> input)
    {
        var changes = new List<KernelRouteChange>();
        var counters = new KernelRouteCounters();
        KernelRouteMonitor.Read(input, changes, counters);
        FuzzCheckException.That(counters.Messages == changes.Count, "one counted message per route");

        var nics = new NicIndexMap();
        for (int i = 1; i <= 4; i++)
            nics.Register(i, new NicId(1 + (i & 1)));
        var sync = new KernelRouteSyncCounters();
        var mirror = new KernelFibMirror(254, nics, sync);
        foreach (KernelRouteChange change in changes)
        {
            KernelRoute r = change.Route;
            int bits = r.Family == AddressFamily.InterNetwork ? 32 : 128;
            FuzzCheckException.That(r.Family is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6, "family");
            FuzzCheckException.That(r.Destination.AddressFamily == r.Family && r.PrefixLength >= 0 && r.PrefixLength <= bits, "destination fits the family");
            foreach (KernelNextHop hop in r.NextHops)
            {
                FuzzCheckException.That(hop.Gateway is null || hop.Gateway.AddressFamily == r.Family, "gateway of the route's family");
                FuzzCheckException.That(hop.Weight is >= 1 and <= 256, "weight 1 to 256 (rtnh_hops + 1)");
            }
            mirror.Apply(change);
        }
        (var v4, var v6) = mirror.TakeDirty();
        foreach (var prefix in v4)
        {
            foreach (var route in prefix.Value?.Routes ?? [])
                FuzzCheckException.That(route.Destination == prefix.Key && route.Nic is 1 or 2, "IPv4 route under its prefix, on a registered NIC");
        }
        foreach (var prefix in v6)
        {
            foreach (var route in prefix.Value?.Routes ?? [])
                FuzzCheckException.That(route.Destination == prefix.Key && route.Nic is 1 or 2, "IPv6 route under its prefix, on a registered NIC");
        }
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => NetlinkRouteSeeds.All();
}
