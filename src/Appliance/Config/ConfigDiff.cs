using System.Collections.Immutable;
using System.Globalization;

namespace XdpStack.Appliance.Config;

/// <summary>
/// What a reload (SIGHUP) would change: the parts that can be applied to a running appliance, and the
/// reasons, if any, that the new config needs a restart instead.
/// </summary>
/// <remarks>
/// Addresses, routes, neighbours, services and forwarding switches are applied live: removals first,
/// then additions, so a changed route is a removal and an addition. Anything that shapes the data path
/// itself (interfaces added or removed, their queues, MACs and MTUs checked at start, the workers, the
/// XDP setup, the management listener) is listed in <see cref="RestartReasons"/>; a reload refuses such
/// a config and keeps the running one. Addresses are compared only on interfaces both configs have.
/// </remarks>
internal sealed record ConfigDiff(
    ImmutableArray<InterfaceAddress> AddedAddresses,
    ImmutableArray<InterfaceAddress> RemovedAddresses,
    ImmutableArray<RouteConfig> AddedRoutes,
    ImmutableArray<RouteConfig> RemovedRoutes,
    ImmutableArray<NeighborConfig> AddedNeighbors,
    ImmutableArray<NeighborConfig> RemovedNeighbors,
    ImmutableArray<ServiceConfig> AddedServices,
    ImmutableArray<ServiceConfig> RemovedServices,
    ImmutableArray<ForwardingChange> ForwardingChanges,
    ImmutableArray<string> RestartReasons)
{
    /// <summary>True when the new config cannot be applied to the running appliance.</summary>
    public bool NeedsRestart => !RestartReasons.IsEmpty;

    /// <summary>True when the two configs mean the same thing.</summary>
    public bool IsEmpty => LiveChanges().Count == 0 && !NeedsRestart;

    /// <summary>Compares the running config with the one a reload read.</summary>
    public static ConfigDiff Compare(ApplianceConfig running, ApplianceConfig next)
    {
        var added = new List<InterfaceAddress>();
        var removed = new List<InterfaceAddress>();
        var forwarding = new List<ForwardingChange>();
        var restart = new List<string>();

        foreach (InterfaceConfig old in running.Interfaces)
        {
            if (next.FindInterface(old.Name) is not { } now)
            {
                restart.Add($"interface {old.Name} removed");
                continue;
            }
            removed.AddRange(old.Addresses.Except(now.Addresses).Select(a => new InterfaceAddress(old.Name, a)));
            added.AddRange(now.Addresses.Except(old.Addresses).Select(a => new InterfaceAddress(old.Name, a)));
            if (old.Forwarding != now.Forwarding)
                forwarding.Add(new ForwardingChange(old.Name, old.Forwarding, now.Forwarding));
            Field(restart, $"queues of {old.Name}", old.Queues, now.Queues);
            Field(restart, $"mac of {old.Name}", old.Mac?.ToString() ?? "(any)", now.Mac?.ToString() ?? "(any)");
            Field(restart, $"vlan of {old.Name}", old.Vlan is { } v0 ? $"{v0.Parent} id {v0.Id}" : "(none)", now.Vlan is { } v1 ? $"{v1.Parent} id {v1.Id}" : "(none)");
            Field(restart, $"punt_tap of {old.Name}", old.PuntTap ?? "(no punt)", now.PuntTap ?? "(no punt)");
            Field(restart, $"mtu of {old.Name}", old.Mtu?.ToString(CultureInfo.InvariantCulture) ?? "(any)", now.Mtu?.ToString(CultureInfo.InvariantCulture) ?? "(any)");
        }
        foreach (InterfaceConfig now in next.Interfaces)
        {
            if (running.FindInterface(now.Name) is null)
                restart.Add($"interface {now.Name} added");
        }

        WorkersConfig w0 = running.Workers, w1 = next.Workers;
        Field(restart, "[workers] cores", w0.IsPinned ? string.Join(',', w0.Cores) : "(none)", w1.IsPinned ? string.Join(',', w1.Cores) : "(none)");
        Field(restart, "[workers] batch", w0.Batch, w1.Batch);
        // Raising a thread's priority needs CAP_SYS_NICE, which the process no longer has once started.
        Field(restart, "[workers] nice", w0.Nice, w1.Nice);
        CompareXdp(restart, running.Xdp, next.Xdp);
        // Fixed when the stack is made (StackOptions.MultipathHashPolicy); a new policy would move flows anyway.
        Field(restart, "[forwarding] multipath_hash", HashName(running.MultipathHash), HashName(next.MultipathHash));
        Field(restart, "[management] listen", running.Management.Listen?.ToString() ?? "(off)", next.Management.Listen?.ToString() ?? "(off)");
        Field(restart, "[management] user", running.Management.User?.Name ?? "(root)", next.Management.User?.Name ?? "(root)");
        KernelRoutesConfig k0 = running.KernelRoutes, k1 = next.KernelRoutes;
        Field(restart, "[kernel_routes] sync", k0.Sync, k1.Sync);
        Field(restart, "[kernel_routes] table", k0.TableName, k1.TableName);
        Field(restart, "[kernel_routes] ipv4", k0.Ipv4, k1.Ipv4);
        Field(restart, "[kernel_routes] ipv6", k0.Ipv6, k1.Ipv6);

        return new ConfigDiff(
            AddedAddresses: [.. added],
            RemovedAddresses: [.. removed],
            AddedRoutes: [.. next.Routes.Except(running.Routes)],
            RemovedRoutes: [.. running.Routes.Except(next.Routes)],
            AddedNeighbors: [.. next.Neighbors.Except(running.Neighbors)],
            RemovedNeighbors: [.. running.Neighbors.Except(next.Neighbors)],
            AddedServices: [.. next.Services.Except(running.Services)],
            RemovedServices: [.. running.Services.Except(next.Services)],
            ForwardingChanges: [.. forwarding],
            RestartReasons: [.. restart]);
    }

    /// <summary>One line per live change, removals first: "- route ...", "+ address ...", "~ forwarding ...".</summary>
    public IReadOnlyList<string> LiveChanges() =>
    [
        .. RemovedAddresses.Select(a => $"- address {a}"),
        .. RemovedRoutes.Select(r => $"- route {r}"),
        .. RemovedNeighbors.Select(n => $"- neighbor {n}"),
        .. RemovedServices.Select(s => $"- service {s}"),
        .. AddedAddresses.Select(a => $"+ address {a}"),
        .. AddedRoutes.Select(r => $"+ route {r}"),
        .. AddedNeighbors.Select(n => $"+ neighbor {n}"),
        .. AddedServices.Select(s => $"+ service {s}"),
        .. ForwardingChanges.Select(f => $"~ {f}"),
    ];

    private static void CompareXdp(List<string> restart, XdpConfig a, XdpConfig b)
    {
        Field(restart, "[xdp] mode", a.Mode.ToString().ToLowerInvariant(), b.Mode.ToString().ToLowerInvariant());
        Field(restart, "[xdp] attach", a.Attach.ToString().ToLowerInvariant(), b.Attach.ToString().ToLowerInvariant());
        Field(restart, "[xdp] busy_poll", a.BusyPoll, b.BusyPoll);
        Field(restart, "[xdp] replace_program", a.ReplaceProgram, b.ReplaceProgram);
        Field(restart, "[xdp] rx_ring", a.RxRing, b.RxRing);
        Field(restart, "[xdp] tx_ring", a.TxRing, b.TxRing);
        Field(restart, "[xdp] fill_ring", a.FillRing, b.FillRing);
        Field(restart, "[xdp] completion_ring", a.CompletionRing, b.CompletionRing);
        Field(restart, "[xdp] frame_size", a.FrameSize, b.FrameSize);
        Field(restart, "[xdp] frames_per_worker", a.FramesPerWorker, b.FramesPerWorker);
        Field(restart, "[xdp] umem_huge_pages", a.UmemHugePages, b.UmemHugePages);
        Field(restart, "[xdp] lpm_huge_pages", a.LpmHugePages, b.LpmHugePages);
    }

    private static string HashName(Stack.Routing.MultipathHashPolicy policy) => policy == Stack.Routing.MultipathHashPolicy.Layer3 ? "l3" : "l4";

    // TOML spells booleans in lower case; so do the messages.
    private static string? Text<T>(T value) => value is bool b ? (b ? "true" : "false") : Convert.ToString(value, CultureInfo.InvariantCulture);

    private static void Field<T>(List<string> restart, string what, T from, T to)
    {
        if (!EqualityComparer<T>.Default.Equals(from, to))
            restart.Add(string.Create(CultureInfo.InvariantCulture, $"{what} changed from {Text(from)} to {Text(to)}"));
    }
}
