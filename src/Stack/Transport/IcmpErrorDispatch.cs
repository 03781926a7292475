using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport;

/// <summary>Passes a received ICMP error to the transport protocol of the packet it quotes (RFC 1122 §4.1.3.3, RFC 4443 §3).</summary>
internal static class IcmpErrorDispatch
{
    /// <summary>Dispatches an ICMPv4 error; <paramref name="quoted"/> is the message after its 8-octet header.</summary>
    public static void DeliverV4(Nic nic, int worker, ReadOnlySpan<byte> quoted, byte type, byte code, uint info)
    {
        if (quoted.Length < Ipv4Packet.MinHeaderLength || (quoted[0] >> 4) != 4)
            return;
        int headerLength = (quoted[0] & 0xF) * 4;
        if (headerLength < Ipv4Packet.MinHeaderLength || quoted.Length < headerLength + 8)
            return;
        var source = Ipv4Address.Read(quoted[12..]);
        var destination = Ipv4Address.Read(quoted[16..]);
        if (nic.Stack.Transports.Find(quoted[9]) is IIcmpErrorReceiver receiver)
            receiver.HandleError(nic, worker, source, destination, quoted[headerLength..], type, code, info);
    }

    /// <summary>Dispatches an ICMPv6 error; <paramref name="quoted"/> is the message after its 8-octet header. Only a quoted packet with no extension headers is followed.</summary>
    public static void DeliverV6(Nic nic, int worker, ReadOnlySpan<byte> quoted, byte type, byte code, uint info)
    {
        if (quoted.Length < Ipv6Packet.HeaderLength + 8 || (quoted[0] >> 4) != 6)
            return;
        var source = new Ipv6Address(quoted[8..24]);
        var destination = new Ipv6Address(quoted[24..40]);
        if (nic.Stack.Transports.Find(quoted[6]) is IIcmpErrorReceiver receiver)
            receiver.HandleError(nic, worker, source, destination, quoted[Ipv6Packet.HeaderLength..], type, code, info);
    }
}
