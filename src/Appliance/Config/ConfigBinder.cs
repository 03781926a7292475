using System.Collections.Immutable;
using XdpStack.Appliance.Config.Toml;
using XdpStack.Stack;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

/// <summary>
/// Turns the TOML tree into an <see cref="ApplianceConfig"/>: reads every section, checks each value,
/// then checks the sections against each other and against the machine, collecting every error.
/// </summary>
/// <remarks>
/// Values are kept as drafts with their positions until the last check, so an error found late (a
/// route naming an interface, a queue the device lacks) still points at the key that caused it.
/// The partial files hold one section each.
/// </remarks>
internal sealed partial class ConfigBinder
{
    private static readonly Dictionary<string, string> s_sectionNames = new(StringComparer.Ordinal)
    {
        ["workers"] = "[workers]",
        ["xdp"] = "[xdp]",
        ["forwarding"] = "[forwarding]",
        ["interface"] = "[[interface]]",
        ["vlan"] = "[[vlan]]",
        ["route"] = "[[route]]",
        ["neighbor"] = "[[neighbor]]",
        ["service"] = "[[service]]",
        ["management"] = "[management]",
        ["kernel_routes"] = "[kernel_routes]",
    };

    private readonly ConfigErrorList _errors;
    private readonly IHostFacts? _host;
    private readonly List<InterfaceDraft> _interfaces = [];
    private readonly List<RouteDraft> _routes = [];
    private readonly List<NeighborDraft> _neighbors = [];
    private readonly List<ServiceDraft> _services = [];
    private WorkersDraft _workers = new([], null, WorkersConfig.DefaultBatch, WorkersConfig.DefaultNice);
    private XdpConfig _xdp = XdpConfig.Default;
    private ForwardingConfig _forwarding = ForwardingConfig.Default;
    private Stack.Routing.MultipathHashPolicy _multipathHash = Stack.Routing.MultipathHashPolicy.Layer4;
    private ManagementConfig _management = ManagementConfig.Default;
    private KernelRoutesConfig _kernelRoutes = KernelRoutesConfig.Default;

    private ConfigBinder(ConfigErrorList errors, IHostFacts? host)
    {
        _errors = errors;
        _host = host;
    }

    /// <summary>Binds and checks the document; null when anything was added to <paramref name="errors"/>.</summary>
    /// <param name="root">The parsed document.</param>
    /// <param name="sourcePath">The full path, kept in the result for reloads.</param>
    /// <param name="errors">Where errors go.</param>
    /// <param name="host">The machine to check devices and CPUs against; null skips those checks.</param>
    public static ApplianceConfig? Bind(TomlTable root, string sourcePath, ConfigErrorList errors, IHostFacts? host)
    {
        var binder = new ConfigBinder(errors, host);
        int before = errors.Count;
        binder.ReadDocument(root);
        binder.CheckAcrossSections();
        binder.CheckWorkerCount(host is null ? null : binder.CheckDevices(host));
        if (host is not null)
            binder.CheckCpus(host);
        return errors.Count == before ? binder.Build(sourcePath) : null;
    }

    private void ReadDocument(TomlTable root)
    {
        var top = new TableReader(root, name: null, _errors, s_sectionNames);
        // [forwarding] first: interfaces fall back to it.
        if (top.Table("forwarding") is { } forwarding)
            ReadForwarding(new TableReader(forwarding, "[forwarding]", _errors));
        if (top.Table("workers") is { } workers)
            ReadWorkers(new TableReader(workers, "[workers]", _errors));
        if (top.Table("xdp") is { } xdp)
            ReadXdp(new TableReader(xdp, "[xdp]", _errors));
        if (top.Table("management") is { } management)
            ReadManagement(new TableReader(management, "[management]", _errors));
        if (top.Table("kernel_routes") is { } kernelRoutes)
            ReadKernelRoutes(new TableReader(kernelRoutes, "[kernel_routes]", _errors));
        foreach (TomlTable table in top.Tables("interface"))
            ReadInterface(new TableReader(table, "[[interface]]", _errors));
        foreach (TomlTable table in top.Tables("vlan"))
            ReadVlan(new TableReader(table, "[[vlan]]", _errors));
        foreach (TomlTable table in top.Tables("route"))
            ReadRoute(new TableReader(table, "[[route]]", _errors));
        foreach (TomlTable table in top.Tables("neighbor"))
            ReadNeighbor(new TableReader(table, "[[neighbor]]", _errors));
        foreach (TomlTable table in top.Tables("service"))
            ReadService(new TableReader(table, "[[service]]", _errors));
        top.ReportUnknownKeys();
        if (root.Find("interface") is null)
            _errors.Add(SourcePosition.FileStart, "no [[interface]] is configured: xdpstack run needs at least one");
    }

    private void CheckAcrossSections()
    {
        CheckRoutes();
        CheckNeighbors();
        CheckServices();
    }

    private ApplianceConfig Build(string sourcePath) => new(
        SourcePath: sourcePath,
        Workers: new WorkersConfig([.. _workers.Cores.Select(c => c.Value)], _workers.Batch, _workers.Nice),
        Xdp: _xdp,
        Forwarding: _forwarding,
        Interfaces: [.. _interfaces.Select(i => new InterfaceConfig(
            i.Name!.Value.Value,
            i.Queues,
            [.. i.Addresses.Select(a => a.Value)],
            i.Mac?.Value,
            i.Mtu?.Value,
            new ForwardingConfig(i.Ipv4Forwarding ?? _forwarding.Ipv4, i.Ipv6Forwarding ?? _forwarding.Ipv6),
            i.PuntTap?.Value)
        {
            Vlan = i.VlanParent is { } parent ? new VlanConfig(parent.Value, i.VlanId!.Value.Value) : null,
        })],
        Routes: [.. _routes.Select(r => new RouteConfig(r.Destination!.Value.Value, r.Gateway?.Value, r.ResolvedInterface!, r.Metric, r.Weight))],
        Neighbors: [.. _neighbors.Select(n => new NeighborConfig(n.Interface!.Value.Value, n.Address!.Value.Value, n.Mac!.Value.Value))],
        Services: [.. _services.Select(s => new ServiceConfig(s.Kind!.Value, s.Port!.Value.Value, s.Address?.Value, s.Http, s.Backlog, s.SynCookies, s.KeepAlive, s.CongestionControl))],
        Management: _management,
        KernelRoutes: _kernelRoutes,
        MultipathHash: _multipathHash);

    /// <summary>The configured interface of that name, or null (a draft without a valid name is never found).</summary>
    private InterfaceDraft? FindInterface(string name) => _interfaces.FirstOrDefault(i => i.Name?.Value == name);

    /// <summary>Reports an interface name that no [[interface]] has, with the closest one as a hint.</summary>
    private InterfaceDraft? RequireInterface(Located<string> name, string owner)
    {
        InterfaceDraft? found = FindInterface(name.Value);
        if (found is null)
        {
            string? guess = KeySuggestion.Closest(name.Value, _interfaces.Where(i => i.Name is not null).Select(i => i.Name!.Value.Value));
            _errors.Add(name.Position, $"{owner} names interface '{name.Value}', which no [[interface]] configures"
                + (guess is null ? "" : $" (did you mean '{guess}'?)"));
        }
        return found;
    }

    /// <summary>The interface's subnets and the prefixes of on-link routes through it: where its neighbours can be.</summary>
    private IEnumerable<IpPrefix> LinkPrefixes(InterfaceDraft draft)
    {
        foreach (Located<AddressWithPrefix> a in draft.Addresses)
            yield return IpPrefix.Containing(a.Value.Address, a.Value.PrefixLength);
        foreach (RouteDraft route in _routes)
        {
            if (route.Gateway is null && route.Destination is { } destination && route.Interface?.Value == draft.Name?.Value)
                yield return destination.Value;
        }
    }

    private bool IsOnLink(InterfaceDraft draft, IpAddress address) => LinkPrefixes(draft).Any(p => p.Contains(address));

    /// <summary>"198.18.0.1/24, 2001:2:0:1::1/64", or "it has no IPv4 address", for messages about a link.</summary>
    private static string DescribeSubnets(InterfaceDraft draft, bool ipv4)
    {
        string[] addresses = [.. draft.Addresses.Where(a => a.Value.Address.IsIpv4 == ipv4).Select(a => a.Value.ToString())];
        return addresses.Length == 0 ? $"it has no {(ipv4 ? "IPv4" : "IPv6")} address" : string.Join(", ", addresses);
    }

    private InterfaceDraft? OwnerOf(IpAddress address) =>
        _interfaces.FirstOrDefault(i => i.Addresses.Any(a => a.Value.Address == address));

    private sealed class InterfaceDraft
    {
        public required SourcePosition Position { get; init; }

        /// <summary>Null when missing or invalid: such an interface is checked but never referenced.</summary>
        public Located<string>? Name { get; set; }

        public QueueSelection Queues { get; set; } = QueueSelection.All;

        /// <summary>Each listed queue with where it was written (a string list puts them all at the string).</summary>
        public List<Located<int>> QueueItems { get; } = [];

        public SourcePosition QueuesPosition { get; set; }

        /// <summary>True when 'queues' was written but wrong (and reported): <see cref="Queues"/> then means nothing.</summary>
        public bool QueuesInvalid { get; set; }

        public List<Located<AddressWithPrefix>> Addresses { get; } = [];

        public Located<MacAddress>? Mac { get; set; }

        public Located<int>? Mtu { get; set; }

        public bool? Ipv4Forwarding { get; set; }

        public bool? Ipv6Forwarding { get; set; }

        /// <summary>The TAP's name when the interface punts, checked; null otherwise.</summary>
        public Located<string>? PuntTap { get; set; }

        /// <summary>A [[vlan]]'s parent, when it names a configured [[interface]]; null for an [[interface]].</summary>
        public Located<string>? VlanParent { get; set; }

        /// <summary>A [[vlan]]'s id when valid; null for an [[interface]].</summary>
        public Located<int>? VlanId { get; set; }

        /// <summary>True for a [[vlan]] draft, valid or not: it has no device of its own.</summary>
        public bool IsVlan { get; init; }
    }

    private sealed class RouteDraft
    {
        public required SourcePosition Position { get; init; }

        public Located<IpPrefix>? Destination { get; set; }

        public Located<IpAddress>? Gateway { get; set; }

        /// <summary>Whether 'via' or 'interface' was written, valid or not.</summary>
        public bool HasNextHopKey { get; set; }

        public Located<string>? Interface { get; set; }

        /// <summary>The named interface, or the one the gateway was found on.</summary>
        public string? ResolvedInterface { get; set; }

        public int Metric { get; set; }

        public int Weight { get; set; } = 1;
    }

    private sealed class NeighborDraft
    {
        public Located<string>? Interface { get; set; }

        public Located<IpAddress>? Address { get; set; }

        public Located<MacAddress>? Mac { get; set; }
    }

    private sealed class ServiceDraft
    {
        public required SourcePosition Position { get; init; }

        public ServiceKind? Kind { get; set; }

        public Located<int>? Port { get; set; }

        public Located<IpAddress>? Address { get; set; }

        public Stack.Transport.Tcp.Services.HttpResponse? Http { get; set; }

        public int? Backlog { get; set; }

        public Stack.Transport.Tcp.TcpSynCookieMode? SynCookies { get; set; }

        public Stack.Transport.Tcp.TcpKeepAlive? KeepAlive { get; set; }

        public Stack.Transport.Tcp.TcpCongestionControl? CongestionControl { get; set; }
    }

    private sealed record WorkersDraft(List<Located<int>> Cores, SourcePosition? CoresPosition, int Batch, int Nice);
}
