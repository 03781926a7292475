namespace XdpStack.Stack.Transport;

/// <summary>What a transport protocol did with a packet addressed to us (gVisor <c>TransportPacketDisposition</c>).</summary>
public enum TransportVerdict
{
    /// <summary>Handled: delivered to an endpoint, or answered in place.</summary>
    Handled,

    /// <summary>Too short or with a bad checksum; counted as malformed, no ICMP.</summary>
    Malformed,

    /// <summary>No endpoint wants it; the network layer answers with ICMP Port Unreachable (RFC 1122 §4.1.3.1).</summary>
    PortUnreachable,
}
