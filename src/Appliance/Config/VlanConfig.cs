namespace XdpStack.Appliance.Config;

/// <summary>What makes an interface a VLAN sub-interface (<c>[[vlan]]</c>): the interface it rides on and its 802.1Q id.</summary>
/// <param name="Parent">The name of the <c>[[interface]]</c> whose sockets carry its frames.</param>
/// <param name="Id">The VLAN id, 1 to 4094, unique on the parent.</param>
internal sealed record VlanConfig(string Parent, int Id);
