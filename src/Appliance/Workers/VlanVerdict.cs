namespace XdpStack.Appliance.Workers;

/// <summary>Where <see cref="VlanDemux"/> sends a frame received on an interface that has VLAN sub-interfaces.</summary>
internal enum VlanVerdict : byte
{
    /// <summary>No tag, or a priority tag (VLAN id 0, stripped): the parent interface's NIC takes it.</summary>
    Untagged,

    /// <summary>An 802.1Q tag of a configured sub-interface: stripped, the sub-interface's NIC takes it.</summary>
    SubInterface,

    /// <summary>An 802.1Q tag whose VLAN id no sub-interface of the parent has: dropped, as Linux drops it.</summary>
    UnknownVlan,

    /// <summary>An 802.1ad service tag (TPID 0x88A8, QinQ), which no sub-interface terminates: dropped.</summary>
    ServiceTag,

    /// <summary>TPID 0x8100 in a frame too short to hold the rest of the tag: dropped as malformed.</summary>
    Truncated,
}
