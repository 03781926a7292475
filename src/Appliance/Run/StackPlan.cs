using XdpStack.Appliance.Routing;
using XdpStack.Stack;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Run;

/// <summary>One address of one NIC.</summary>
internal readonly record struct PlannedAddress(NicId Nic, IpAddress Address, int PrefixLength)
{
    public override string ToString() => $"{Address}/{PrefixLength} on nic {Nic}";
}

/// <summary>A static ARP or NDP entry.</summary>
internal readonly record struct PlannedNeighbor(NicId Nic, IpAddress Address, MacAddress Mac)
{
    public override string ToString() => $"{Address} lladdr {Mac} on nic {Nic}";
}

/// <summary>Whether a NIC forwards each family.</summary>
internal readonly record struct PlannedForwarding(NicId Nic, bool Ipv4, bool Ipv6);

/// <summary>
/// Everything the configuration asks of the stack, in the stack's own terms: addresses, routes (connected routes
/// for every address included, as Linux adds them), static neighbours and forwarding switches.
/// </summary>
/// <remarks>
/// <see cref="Apply"/> sets up a fresh stack; <see cref="ApplyChanges"/> moves a running stack from one plan to the next
/// by removing what went away and adding what is new, so routes, addresses and neighbours that both plans share
/// are never touched and their traffic never stops. Routes go through the <see cref="RouteRegistry"/>, which publishes
/// them as one snapshot and leaves the routes mirrored from the kernel alone.
/// </remarks>
internal sealed record StackPlan(
    IReadOnlyList<PlannedAddress> Addresses,
    IReadOnlyList<Ipv4Route> Ipv4Routes,
    IReadOnlyList<Ipv6Route> Ipv6Routes,
    IReadOnlyList<PlannedNeighbor> Neighbors,
    IReadOnlyList<PlannedForwarding> Forwarding,
    MultipathHashPolicy MultipathHash = MultipathHashPolicy.Layer4)
{
    /// <summary>Applies every part of the plan to a stack that has its NICs and nothing else yet.</summary>
    public void Apply(NetworkStack stack, RouteRegistry routes) => ApplyChanges(stack, Empty, routes);

    /// <summary>Moves <paramref name="stack"/>, which runs <paramref name="running"/>, to this plan; returns one line per change.</summary>
    /// <param name="stack">The stack.</param>
    /// <param name="running">The plan the stack runs now.</param>
    /// <param name="routes">The stack's route writer; only its connected and config routes change.</param>
    public IReadOnlyList<string> ApplyChanges(NetworkStack stack, StackPlan running, RouteRegistry routes)
    {
        var changes = new List<string>();
        foreach (PlannedNeighbor n in running.Neighbors.Except(Neighbors))
        {
            if (Remove(stack, n))
                changes.Add($"removed neighbour {n}");
        }
        foreach (PlannedAddress a in running.Addresses.Except(Addresses))
        {
            Check(stack.RemoveAddress(a.Nic, a.Address), $"remove address {a}");
            changes.Add($"removed address {a}");
        }
        foreach (PlannedAddress a in Addresses.Except(running.Addresses))
        {
            Check(stack.AddAddress(a.Nic, a.Address, a.PrefixLength), $"add address {a}");
            changes.Add($"added address {a}");
        }
        bool routesChanged = !running.Ipv4Routes.SequenceEqual(Ipv4Routes) || !running.Ipv6Routes.SequenceEqual(Ipv6Routes);
        if (routesChanged)
        {
            changes.AddRange(running.Ipv4Routes.Except(Ipv4Routes).Select(r => $"removed route {r}"));
            changes.AddRange(running.Ipv6Routes.Except(Ipv6Routes).Select(r => $"removed route {r}"));
            changes.AddRange(Ipv4Routes.Except(running.Ipv4Routes).Select(r => $"added route {r}"));
            changes.AddRange(Ipv6Routes.Except(running.Ipv6Routes).Select(r => $"added route {r}"));
            // One publication: a lookup sees the old table or the new one, never a half-built one, and routes both
            // tables share keep forwarding throughout.
            HashSet<Ipv4Route> connected4 = [.. ConnectedIpv4(Addresses)];
            HashSet<Ipv6Route> connected6 = [.. ConnectedIpv6(Addresses)];
            routes.SetStatic(
                Ipv4Routes.Select(r => (r, connected4.Contains(r) ? RouteOrigin.Connected : RouteOrigin.Config)),
                Ipv6Routes.Select(r => (r, connected6.Contains(r) ? RouteOrigin.Connected : RouteOrigin.Config)));
        }
        foreach (PlannedNeighbor n in Neighbors.Except(running.Neighbors))
        {
            Add(stack, n);
            changes.Add($"added neighbour {n}");
        }
        foreach (PlannedForwarding f in Forwarding.Except(running.Forwarding))
        {
            Check(stack.SetForwarding(f.Nic, EtherType.Ipv4, f.Ipv4, out _), $"set IPv4 forwarding on nic {f.Nic}");
            Check(stack.SetForwarding(f.Nic, EtherType.Ipv6, f.Ipv6, out _), $"set IPv6 forwarding on nic {f.Nic}");
            if (running.Forwarding.Count > 0)
                changes.Add($"forwarding on nic {f.Nic}: IPv4 {(f.Ipv4 ? "on" : "off")}, IPv6 {(f.Ipv6 ? "on" : "off")}");
        }
        return changes;
    }

    /// <summary>The plan of a stack with nothing configured.</summary>
    public static StackPlan Empty { get; } = new([], [], [], [], []);

    /// <summary>The on-link route Linux adds for an address: its prefix, through its NIC, metric 0.</summary>
    public static IEnumerable<Ipv4Route> ConnectedIpv4(IEnumerable<PlannedAddress> addresses) =>
        addresses.Where(a => a.Address.IsIpv4)
            .Select(a => new Ipv4Route(Ipv4Prefix.Containing(a.Address.V4, a.PrefixLength), Ipv4Address.Any, a.Nic.Value))
            .Distinct();

    /// <inheritdoc cref="ConnectedIpv4"/>
    public static IEnumerable<Ipv6Route> ConnectedIpv6(IEnumerable<PlannedAddress> addresses) =>
        addresses.Where(a => a.Address.IsIpv6)
            .Select(a => new Ipv6Route(Ipv6Prefix.Containing(a.Address.V6, a.PrefixLength), Ipv6Address.Any, a.Nic.Value))
            .Distinct();

    private static void Add(NetworkStack stack, PlannedNeighbor n)
    {
        Nic nic = stack.Nics[n.Nic];
        if (n.Address.IsIpv4)
            nic.Neighbors.AddStatic(n.Address.V4, n.Mac);
        else
            nic.Ipv6Neighbors.AddStatic(n.Address.V6, n.Mac);
    }

    private static bool Remove(NetworkStack stack, PlannedNeighbor n)
    {
        Nic nic = stack.Nics[n.Nic];
        return n.Address.IsIpv4 ? nic.Neighbors.Remove(n.Address.V4) : nic.Ipv6Neighbors.Remove(n.Address.V6);
    }

    private static void Check(StackError error, string what)
    {
        if (error != StackError.None)
            throw new ApplianceException($"the stack refused to {what}: {error}");
    }
}
