using System.Buffers.Binary;

namespace XdpStack.Stack.Transport.Tcp;

// ICMP errors quoting one of our segments go to its connection (RFC 1122 §4.2.3.9), on the worker that received them.
public sealed partial class TcpProtocol : IIcmpErrorReceiver
{
    void IIcmpErrorReceiver.HandleError(Nic nic, int worker, IpAddress source, IpAddress destination, ReadOnlySpan<byte> quotedTransport, byte type, byte code, uint info)
    {
        // The quoted segment is one we sent: our side is its source. Its first 8 octets carry the ports and the sequence.
        if ((uint)worker >= (uint)_workers.Length || quotedTransport.Length < 8)
            return;
        ushort sourcePort = BinaryPrimitives.ReadUInt16BigEndian(quotedTransport);
        ushort destinationPort = BinaryPrimitives.ReadUInt16BigEndian(quotedTransport[2..]);
        uint sequence = BinaryPrimitives.ReadUInt32BigEndian(quotedTransport[4..]);
        // A connection lives on one worker. An error that arrived on another (the NIC hashed it by addresses alone)
        // finds nothing here and is dropped, as a message for no connection is.
        if (_workers[worker].Find(new TcpFlowKey(source, destination, sourcePort, destinationPort)) is not { } connection)
            return;
        TcpIcmpError error = source.IsIpv6 ? TcpIcmpError.FromIcmpv6(type, code, info) : TcpIcmpError.FromIcmpv4(type, code, info);
        if (!error.IsIgnored)
            connection.ReceiveIcmpError(sequence, error, _workers[worker].NowMicroseconds());
    }
}
