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
/// Threading: published by <see cref="RouteTableWriter"/> with one <c>Volatile.Write</c>; readers load
/// <see cref="RouteTableWriter.Current"/> once per batch and never lock. Nothing in a snapshot changes after publication.
/// </para>
/// </remarks>
public sealed partial class RouteTable
{
    /// <summary>A table with no routes.</summary>
    public static RouteTable Empty { get; } = new([], [], null, [], [], null, 0);

    internal RouteTable(
        Ipv4Route[] v4, int[] v4First, Ipv4Lpm? v4Lpm,
        Ipv6Route[] v6, int[] v6First, Ipv6Lpm? v6Lpm,
        long version)
    {
        _v4 = v4;
        _v4First = v4First;
        _v4Lpm = v4Lpm;
        _v6 = v6;
        _v6First = v6First;
        _v6Lpm = v6Lpm;
        Version = version;
    }

    /// <summary>Counts publications by the writer, starting at 1; <see cref="Empty"/> is 0.</summary>
    public long Version { get; }
}
