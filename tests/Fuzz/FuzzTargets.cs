using XdpStack.Fuzz.Targets;

namespace XdpStack.Fuzz;

/// <summary>Every fuzz target, by name; fuzz/run-all.sh runs them in this order.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new EthernetTarget(),
        new ArpTarget(),
        new Ipv4Target(),
        new Ipv4OptionsTarget(),
        new Ipv6Target(),
        new Ipv6ExtensionsTarget(),
        new Icmpv4Target(),
        new Icmpv6Target(),
        new UdpTarget(),
        new TcpTarget(),
        new HttpTarget(),
        new ChecksumTarget(),
        new AddressTextTarget(),
        new ReflectorTarget(),
        new ReceiveTarget(),
        new FastPath4Target(),
        new FastPath6Target(),
        new ConfigTarget(),
        new NetlinkTarget(),
        new NetlinkRouteTarget(),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
