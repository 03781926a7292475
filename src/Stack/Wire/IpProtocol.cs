namespace XdpStack.Stack.Wire;

/// <summary>
/// An IPv4 Protocol or IPv6 Next Header value (IANA "Assigned Internet Protocol Numbers";
/// RFC 8200 §4 for the IPv6 extension headers).
/// </summary>
public enum IpProtocol : byte
{
    /// <summary>IPv6 Hop-by-Hop Options header (RFC 8200 §4.3); only valid right after the IPv6 header.</summary>
    HopByHop = 0,

    /// <summary>Internet Control Message Protocol for IPv4 (RFC 792).</summary>
    Icmp = 1,

    /// <summary>Internet Group Management Protocol (RFC 3376).</summary>
    Igmp = 2,

    /// <summary>IPv4 encapsulated in IP (RFC 2003).</summary>
    IpInIp = 4,

    /// <summary>Transmission Control Protocol (RFC 9293).</summary>
    Tcp = 6,

    /// <summary>User Datagram Protocol (RFC 768).</summary>
    Udp = 17,

    /// <summary>IPv6 encapsulated in IP (RFC 2473).</summary>
    Ipv6 = 41,

    /// <summary>IPv6 Routing header (RFC 8200 §4.4).</summary>
    Ipv6Routing = 43,

    /// <summary>IPv6 Fragment header (RFC 8200 §4.5).</summary>
    Ipv6Fragment = 44,

    /// <summary>Generic Routing Encapsulation (RFC 2784).</summary>
    Gre = 47,

    /// <summary>Encapsulating Security Payload (RFC 4303).</summary>
    Esp = 50,

    /// <summary>Authentication Header (RFC 4302); its length counts 4-octet units, unlike the other extension headers.</summary>
    Ah = 51,

    /// <summary>Internet Control Message Protocol for IPv6 (RFC 4443).</summary>
    Icmpv6 = 58,

    /// <summary>No next header (RFC 8200 §4.7): nothing follows.</summary>
    Ipv6NoNextHeader = 59,

    /// <summary>IPv6 Destination Options header (RFC 8200 §4.6).</summary>
    Ipv6DestinationOptions = 60,

    /// <summary>Stream Control Transmission Protocol (RFC 9260).</summary>
    Sctp = 132,
}
