using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>An immutable snapshot of the IPv4 and IPv6 routes, ordered as gVisor orders them, with LPM-backed lookups.</summary>
/// <remarks>
/// <para>
/// Order (gVisor <c>AddRoute</c>, behaviour 16): longest prefix first; among equal lengths, lower metric first; among
/// equal metrics, older routes first. The best route for a destination is the first route in that order that contains
/// it and whose NIC the caller's <see cref="INicFilter"/> accepts (behaviour 15: routes through a down NIC are skipped).
/// </para>
/// <para>
/// Lookups ask the LPM for the first route whose prefix is the longest match; only when the filter rejects that route
/// do they scan on through the ordered list, which holds nothing earlier that could match. Tables of up to
/// <see cref="RouteTableWriter.DefaultLpmThreshold"/> routes per family skip the LPM and just scan.
/// </para>
/// <para>
/// Routes of one prefix and metric form a <see cref="MultipathGroup"/> (ECMP). Lookups that pass a flow hash
/// (<see cref="Multipath"/> computes it from the packet) spread flows over the group's members with usable NICs;
/// lookups without one keep the first usable route, as before groups existed. When no member is usable the scan goes
/// on to the next metric or a shorter prefix, as Linux skips a dead multipath route.
/// </para>
/// <para>
/// Threading: published by <see cref="RouteTableWriter"/> with one <c>Volatile.Write</c>; readers load
/// <see cref="RouteTableWriter.Current"/> once per batch and never lock. Nothing in a snapshot changes after publication.
/// </para>
/// </remarks>
public sealed partial class RouteTable
{
    /// <summary>A table with no routes.</summary>
    public static RouteTable Empty { get; } = new(
        new([], [], null, [], [], null), new([], [], null, [], [], null), new MultipathHash(MultipathHashPolicy.Layer4, 0), 0);

    internal RouteTable(FamilyArrays<Ipv4Route, Ipv4Prefix, PersistentIpv4Lpm> v4, FamilyArrays<Ipv6Route, Ipv6Prefix, Ipv6Lpm> v6, MultipathHash multipath, long version)
    {
        Ipv4Changes = v4.Changes;
        Ipv6Changes = v6.Changes;
        _v4 = v4.Routes;
        _v4First = v4.FirstByPrefixId;
        _v4Lpm = v4.Lpm;
        _v4GroupOf = v4.GroupByPosition;
        _v4Groups = v4.Groups;
        _v6 = v6.Routes;
        _v6First = v6.FirstByPrefixId;
        _v6Lpm = v6.Lpm;
        _v6GroupOf = v6.GroupByPosition;
        _v6Groups = v6.Groups;
        Multipath = multipath;
        Version = version;
    }

    /// <summary>The flow hash multipath lookups take; the same for every worker and both fast paths, so they all choose alike.</summary>
    public MultipathHash Multipath { get; }

    /// <summary>Counts publications by the writer, starting at 1; <see cref="Empty"/> is 0.</summary>
    public long Version { get; }

    /// <summary>The IPv4 prefixes this publication changed, linked to later publications'; null for <see cref="Empty"/>.</summary>
    internal RouteChanges<Ipv4Route, Ipv4Prefix>? Ipv4Changes { get; }

    /// <summary>The IPv6 prefixes this publication changed, linked to later publications'; null for <see cref="Empty"/>.</summary>
    internal RouteChanges<Ipv6Route, Ipv6Prefix>? Ipv6Changes { get; }
}
