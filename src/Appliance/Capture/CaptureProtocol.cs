namespace XdpStack.Appliance.Capture;

/// <summary>Which transport or network protocol a <see cref="CaptureFilter"/> keeps (tcpdump's primitives of the same names).</summary>
internal enum CaptureProtocol
{
    /// <summary>Every frame.</summary>
    Any,

    /// <summary>IPv4 packets.</summary>
    Ip,

    /// <summary>IPv6 packets.</summary>
    Ip6,

    /// <summary>ICMP over IPv4 and ICMPv6 (a next header of 58 right after the IPv6 header).</summary>
    Icmp,

    /// <summary>UDP over either family.</summary>
    Udp,

    /// <summary>TCP over either family.</summary>
    Tcp,

    /// <summary>ARP.</summary>
    Arp,
}
