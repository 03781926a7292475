namespace XdpStack.Stack.Transport.Udp;

/// <summary>A responder the stack runs itself on a UDP port, on the receiving worker.</summary>
public enum UdpServiceKind
{
    /// <summary>Echo (RFC 862): every datagram goes back to its sender, turned around in the frame it came in.</summary>
    Echo,

    /// <summary>Discard (RFC 863): every datagram is counted and dropped, with no reply and no ICMP error.</summary>
    Discard,
}
