namespace XdpStack.Appliance.Metrics;

/// <summary>What one stack counter becomes in the export: a drop with its reason, or an event of a protocol family.</summary>
/// <param name="DropReason">The <c>reason</c> label of <c>xdpstack_drops_total</c>, or null for an event.</param>
/// <param name="Family">The family an event feeds; ignored for a drop.</param>
/// <param name="IpFamily"><c>ipv4</c> or <c>ipv6</c> for the families that carry a <c>family</c> label, else null.</param>
/// <param name="Type">The <c>type</c> label of an event, or null for a drop.</param>
internal sealed record CounterRole(string? DropReason, ProtocolFamily Family, string? IpFamily, string? Type)
{
    public bool IsDrop => DropReason is not null;

    public static CounterRole Drop(string reason) => new(reason, default, null, null);

    public static CounterRole Event(ProtocolFamily family, string type) => new(null, family, null, type);

    public static CounterRole Event(ProtocolFamily family, string ipFamily, string type) => new(null, family, ipFamily, type);
}
