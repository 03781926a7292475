using System.Collections.Immutable;

namespace XdpStack.Appliance.Config;

/// <summary>The validated configuration of <c>xdpstack run</c>: everything in it has been checked together.</summary>
/// <remarks>
/// Only <see cref="ConfigLoader"/> makes these, so code that gets one may rely on every rule in
/// docs/config.md: names are unique, every route's and neighbour's interface exists, gateways are on
/// their interface's link. Reload compares two of them with <see cref="ConfigDiff.Compare"/>.
/// </remarks>
/// <param name="SourcePath">The full path of the file it was read from, for reloads.</param>
/// <param name="Workers">The <c>[workers]</c> section.</param>
/// <param name="Xdp">The <c>[xdp]</c> section.</param>
/// <param name="Forwarding">The global <c>[forwarding]</c> switch; each interface holds its own resolved value too.</param>
/// <param name="Interfaces">The <c>[[interface]]</c>s in the order written, then the <c>[[vlan]]</c>s (<see cref="InterfaceConfig.Vlan"/> set) in the order written.</param>
/// <param name="Routes">The <c>[[route]]</c>s in the order written.</param>
/// <param name="Neighbors">The <c>[[neighbor]]</c>s in the order written.</param>
/// <param name="Services">The <c>[[service]]</c>s in the order written.</param>
/// <param name="Management">The <c>[management]</c> section.</param>
/// <param name="KernelRoutes">The <c>[kernel_routes]</c> section.</param>
/// <param name="MultipathHash">The <c>[forwarding]</c> <c>multipath_hash</c>: what picks a multipath route's next hop.</param>
internal sealed record ApplianceConfig(
    string SourcePath,
    WorkersConfig Workers,
    XdpConfig Xdp,
    ForwardingConfig Forwarding,
    ImmutableArray<InterfaceConfig> Interfaces,
    ImmutableArray<RouteConfig> Routes,
    ImmutableArray<NeighborConfig> Neighbors,
    ImmutableArray<ServiceConfig> Services,
    ManagementConfig Management,
    KernelRoutesConfig KernelRoutes,
    Stack.Routing.MultipathHashPolicy MultipathHash = Stack.Routing.MultipathHashPolicy.Layer4)
{
    public InterfaceConfig? FindInterface(string name) => Interfaces.FirstOrDefault(i => i.Name == name);

    /// <summary>One line for <c>run --check</c>: what the file configures.</summary>
    public string Summary() =>
        $"{Count(Interfaces.Length, "interface")} ({string.Join(", ", Interfaces.Select(i => i.Name))}), "
        + $"{Count(Routes.Length, "route")}{MultipathSummary()}, {Count(Neighbors.Length, "static neighbor")}, {Count(Services.Length, "service")}"
        + (KernelRoutes.Sync ? $", routes from kernel table {KernelRoutes.TableName}" : "");

    /// <summary>The multipath groups among the routes: routes of one prefix and metric share its traffic.</summary>
    public IEnumerable<IGrouping<(IpPrefix Destination, int Metric), RouteConfig>> MultipathGroups() =>
        Routes.GroupBy(r => (r.Destination, r.Metric)).Where(g => g.Count() > 1);

    // " (198.19.0.0/16 metric 0 over 2 next hops)" for each group, or nothing.
    private string MultipathSummary()
    {
        string[] groups = [.. MultipathGroups().Select(g => $"{g.Key.Destination} metric {g.Key.Metric} over {g.Count()} next hops")];
        return groups.Length == 0 ? "" : $" ({Count(groups.Length, "multipath group")}: {string.Join(", ", groups)})";
    }

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";
}
