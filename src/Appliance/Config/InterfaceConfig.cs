using System.Collections.Immutable;
using XdpStack.Stack;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

/// <summary>One <c>[[interface]]</c>: a network device the appliance takes over, with its addresses.</summary>
/// <param name="Name">The Linux device name.</param>
/// <param name="Queues">The queues served on it.</param>
/// <param name="Addresses">Its addresses with prefix lengths, in the order written.</param>
/// <param name="Mac">The MAC the device must have, or null for any.</param>
/// <param name="Mtu">The MTU the device must have, or null for any.</param>
/// <param name="Forwarding">Whether packets arriving on it are forwarded, per family (the global switch unless overridden).</param>
/// <param name="PuntTap">The kernel TAP twin its control plane is punted to (docs/punt.md), or null when it does not punt.</param>
internal sealed record InterfaceConfig(
    string Name,
    QueueSelection Queues,
    ImmutableArray<AddressWithPrefix> Addresses,
    MacAddress? Mac,
    int? Mtu,
    ForwardingConfig Forwarding,
    string? PuntTap = null)
{
    /// <summary>The TAP's name when <c>punt_tap</c> does not give one: "xs-" and the interface's name.</summary>
    /// <summary>For a <c>[[vlan]]</c>, its parent and id; null for an <c>[[interface]]</c>.</summary>
    public VlanConfig? Vlan { get; init; }

    public static string DefaultPuntTap(string name) => "xs-" + name;

    /// <summary>True when <paramref name="address"/> lies in the subnet of one of the interface's addresses.</summary>
    public bool OnSubnet(IpAddress address) =>
        Addresses.Any(a => IpPrefix.Containing(a.Address, a.PrefixLength).Contains(address));

    public bool Equals(InterfaceConfig? other) =>
        other is not null && Name == other.Name && Queues.Equals(other.Queues) && Addresses.SequenceEqual(other.Addresses)
        && Mac == other.Mac && Mtu == other.Mtu && Forwarding == other.Forwarding && PuntTap == other.PuntTap
        && Vlan == other.Vlan;

    public override int GetHashCode() => HashCode.Combine(Name, Addresses.Length);
}
