namespace XdpStack.Stack.Wire;

/// <summary>The EtherType field of an Ethernet II frame (IEEE 802.3 §3.2.6, IANA "IEEE 802 Numbers").</summary>
/// <remarks>Values below 0x0600 are 802.3 length fields, not EtherTypes; the stack drops such frames.</remarks>
public enum EtherType : ushort
{
    /// <summary>Internet Protocol version 4 (RFC 894).</summary>
    Ipv4 = 0x0800,

    /// <summary>Address Resolution Protocol (RFC 826).</summary>
    Arp = 0x0806,

    /// <summary>IEEE 802.1Q customer VLAN tag (C-tag).</summary>
    Vlan = 0x8100,

    /// <summary>Internet Protocol version 6 (RFC 8200, RFC 2464).</summary>
    Ipv6 = 0x86DD,

    /// <summary>IEEE 802.1ad service VLAN tag (S-tag, "QinQ").</summary>
    QinQ = 0x88A8,

    /// <summary>MPLS unicast (RFC 5332).</summary>
    Mpls = 0x8847,

    /// <summary>Link Layer Discovery Protocol (IEEE 802.1AB).</summary>
    Lldp = 0x88CC,
}
