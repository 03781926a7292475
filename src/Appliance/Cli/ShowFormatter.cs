using System.Globalization;
using XdpStack.Appliance.Control;
using XdpStack.Appliance.Routing;

namespace XdpStack.Appliance.Cli;

/// <summary>The human forms of <c>xdpstack show</c>, in the manner of <c>ip addr</c>, <c>ip route</c>, <c>ip neigh</c> and <c>vppctl show interface</c>.</summary>
internal static class ShowFormatter
{
    public static void Interfaces(TextWriter o, InterfacesReply reply)
    {
        foreach (InterfaceEntry i in reply.Interfaces)
        {
            if (i.Parent is not null)
                o.WriteLine(Invariant($"{i.Nic}: {i.Name}@{i.Parent}: mtu {i.Mtu} vlan id {i.VlanId} (802.1Q) queues {string.Join(',', i.Queues)}"));
            else
                o.WriteLine(Invariant($"{i.Nic}: {i.Name}: mtu {i.Mtu} ifindex {i.Ifindex} xdp {i.Attach}{(i.XdpProgram != 0 ? Invariant($" prog {i.XdpProgram}") : "")} queues {string.Join(',', i.Queues)}"));
            o.WriteLine($"    link/ether {i.Mac}");
            foreach (string address in i.Addresses)
                o.WriteLine($"    {(address.Contains(':', StringComparison.Ordinal) ? "inet6" : "inet")} {address}");
            o.WriteLine(Invariant($"    RX: {i.RxPackets} packets {i.RxBytes} bytes    TX: {i.TxPackets} packets {i.TxBytes} bytes"));
            foreach (SocketEntry s in i.Sockets)
            {
                string flags = string.Join(' ', new[] { s.NeedWakeup ? "need_wakeup" : null, s.BusyPoll ? "busy_poll" : null }.Where(f => f is not null));
                o.WriteLine(Invariant($"    queue {s.Queue}: worker {s.Worker} {s.Mode} {s.Attach}{(flags.Length > 0 ? " " + flags : "")}  rx {s.RxPackets} packets {s.RxBytes} bytes  tx {s.TxPackets} packets {s.TxBytes} bytes"));
            }
        }
    }

    public static void Routes(TextWriter o, RoutesReply reply)
    {
        foreach (RouteEntry r in reply.Routes)
            o.WriteLine(Invariant($"{r.Prefix}{(r.Via is null ? "" : " via " + r.Via)} dev {r.Interface} proto {r.Source}{(r.Protocol is null ? "" : "/" + r.Protocol)} metric {r.Metric}{(r.Weight == 1 ? "" : $" weight {r.Weight}")}"));
    }

    public static void RouteSummary(TextWriter o, RouteSummaryReply reply)
    {
        o.WriteLine(Invariant($"table version {reply.TableVersion}: {reply.Ipv4Routes} IPv4 routes, {reply.Ipv6Routes} IPv6 routes"));
        if (reply.FastPath is { } f)
            o.WriteLine(Invariant($"IPv4 fast path at table version {f.Ipv4RouteVersion}: {f.Ipv4FullBuilds} full builds, {f.Ipv4Updates} route updates ({f.Ipv4LpmCopies} of them on a copied LPM)"));
        if (reply.KernelSync is not { } k)
        {
            o.WriteLine("kernel routes: not followed ([kernel_routes] sync = false)");
            return;
        }
        o.WriteLine(Invariant($"kernel table {k.Table}: {reply.KernelIpv4Routes} IPv4 and {reply.KernelIpv6Routes} IPv6 routes mirrored, {reply.ShadowedPrefixes} prefixes shadowed by connected or config routes"));
        o.WriteLine(Invariant($"  {k.Messages} messages, {k.Publications} publications, {k.Resyncs} dumps, {k.Overruns} overruns, {k.Malformed} malformed"));
        string notUnicast = string.Concat(k.NotUnicast.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Invariant($", {p.Value} {p.Key}")));
        o.WriteLine(Invariant($"  skipped: {k.OtherTable} other table, {k.Cloned} cloned, {k.NoOwnedInterface} on no owned interface, {k.OtherFamilyGateway} next hops via the other family{notUnicast}"));
        KernelRouteLatency l = k.Latency;
        o.WriteLine(l.Changes == 0
            ? "  notification to publication: no change timed yet"
            : Invariant($"  notification to publication: {l.Changes} changes, p50 {l.P50Milliseconds:0} ms, p99 {l.P99Milliseconds:0} ms, max {l.MaxMilliseconds:0.0} ms"));
    }

    public static void Neighbors(TextWriter o, NeighborsReply reply)
    {
        foreach (NeighborEntry n in reply.Neighbors)
            o.WriteLine($"{n.Address} dev {n.Interface}{(n.Mac is null ? "" : " lladdr " + n.Mac)} {IpState(n.State)}");
    }

    public static void Counters(TextWriter o, CountersReply reply, bool all)
    {
        foreach (NicCounterSet nic in reply.Interfaces)
        {
            o.WriteLine(Invariant($"{nic.Interface} (nic {nic.Nic}):"));
            List(o, "  ", nic.Counters, all);
        }
        foreach (WorkerCounterSet w in reply.Workers)
        {
            o.WriteLine(Invariant($"worker {w.Worker} (queue {w.Queue}{(w.Cpu is int cpu ? Invariant($", cpu {cpu}") : "")}):"));
            List(o, "  ", w.Counters, all);
            foreach (SocketCounterSet s in w.Sockets)
            {
                o.WriteLine(Invariant($"  {s.Interface} queue {s.Queue}:"));
                List(o, "    ", s.Counters, all);
            }
        }
    }

    /// <summary>The state as <c>ip neigh</c> spells it.</summary>
    public static string IpState(string state) => state switch
    {
        "static" => "PERMANENT",
        _ => state.ToUpperInvariant(),
    };

    private static void List(TextWriter o, string indent, IReadOnlyDictionary<string, long> counters, bool all)
    {
        KeyValuePair<string, long>[] shown = [.. counters.Where(c => all || c.Value != 0)];
        if (shown.Length == 0)
        {
            o.WriteLine(indent + "(all zero)");
            return;
        }
        int width = shown.Max(c => c.Key.Length);
        foreach ((string name, long value) in shown)
            o.WriteLine(Invariant($"{indent}{name.PadRight(width)}  {value,16}"));
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
