namespace XdpStack.Appliance.Metrics;

/// <summary>The exported family a non-drop <c>StatCounter</c> feeds, with a <c>type</c> label.</summary>
internal enum ProtocolFamily
{
    /// <summary><c>xdpstack_arp_packets_total</c>.</summary>
    Arp,

    /// <summary><c>xdpstack_ndp_packets_total</c>.</summary>
    Ndp,

    /// <summary><c>xdpstack_icmp_packets_total</c> (with a <c>family</c> label).</summary>
    Icmp,

    /// <summary><c>xdpstack_ip_packets_total</c> (with a <c>family</c> label).</summary>
    Ip,

    /// <summary><c>xdpstack_udp_datagrams_total</c>.</summary>
    Udp,

    /// <summary><c>xdpstack_udp_bytes_total</c>: payload octets of the UDP services.</summary>
    UdpBytes,

    /// <summary><c>xdpstack_tcp_segments_total</c>: TCP events (segments, opens, resets, retransmissions, timers).</summary>
    Tcp,

    /// <summary><c>xdpstack_tcp_bytes_total</c>: TCP payload octets received and sent.</summary>
    TcpBytes,

    /// <summary><c>xdpstack_http_requests_total</c>: requests of the HTTP responder services.</summary>
    Http,

    /// <summary><c>xdpstack_stack_frames_total</c>: frames the stack's NICs received and sent (the part the fast paths left to the stack).</summary>
    StackFrames,

    /// <summary><c>xdpstack_stack_bytes_total</c>: their bytes.</summary>
    StackBytes,
}
