namespace XdpStack.Stack.Transport;

/// <summary>A transport protocol that wants ICMP errors about the packets it sent, to pass them to the sending endpoint.</summary>
public interface IIcmpErrorReceiver
{
    /// <summary>
    /// Handles an ICMPv4 or ICMPv6 error whose quoted packet went from <paramref name="source"/> to
    /// <paramref name="destination"/>; <paramref name="quotedTransport"/> is what the error quotes of
    /// its transport header (at least 8 octets); <paramref name="info"/> is the error's four octets after its checksum
    /// (the next-hop MTU of a Fragmentation Needed, the MTU of a Packet Too Big, a Parameter Problem's pointer).
    /// </summary>
    void HandleError(Nic nic, int worker, IpAddress source, IpAddress destination, ReadOnlySpan<byte> quotedTransport, byte type, byte code, uint info);
}
