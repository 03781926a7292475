using System.Runtime.CompilerServices;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

// Fragments addressed to us (RFC 8200 §4.5, behaviours 50-51).
internal sealed partial class Ipv6Endpoint
{
    private void HandleFragment(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6Packet ip, Ipv6ExtensionChain chain)
    {
        NicStats stats = _nic.Stats;
        stats.Add(worker, StatCounter.Ipv6FragmentsReceived);
        // RFC 8200 §4.5 (RFC 7112): a first fragment must hold every header through the upper layer's; as
        // Linux's ipv6frag_thdr_truncated judges it (TCP 20 octets, UDP 8, ICMPv6 8, anything else 1), one that
        // does not draws Parameter Problem code 3 pointing at octet 0. No Next Header ends the chain there (Linux's
        // ipv6_skip_exthdr gives up on it, so it is never called truncated).
        if (chain.FragmentOffset == 0 && chain.UpperLayerProtocol != IpProtocol.Ipv6NoNextHeader
            && chain.UpperLayerLength < UpperLayerHeaderLength(chain.UpperLayerProtocol))
        {
            stats.Add(worker, StatCounter.Ipv6MalformedFragmentsReceived);
            SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, IncompleteHeaderChain, 0);
            return;
        }
        // The fragmentable part: everything after the fragment header.
        int dataLength = Ipv6Packet.HeaderLength + ip.PayloadLength - chain.FragmentHeaderOffset - 8;
        // §4.5: data that would end past 65535 octets; the error points at the Fragment Offset field. Linux
        // checks this before the length below.
        if (chain.FragmentOffset + dataLength > Ipv6Reassembler.MaxPayload)
        {
            stats.Add(worker, StatCounter.Ipv6MalformedFragmentsReceived);
            SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, 0, (uint)(chain.FragmentHeaderOffset + 2));
            return;
        }
        // §4.5: a fragment that is not the last must carry a multiple of 8 octets; the error
        // points at the Payload Length field.
        if (chain.MoreFragments && (dataLength & 7) != 0)
        {
            stats.Add(worker, StatCounter.Ipv6MalformedFragmentsReceived);
            SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, 0, 4);
            return;
        }
        Ipv6Reassembler reassembler = _reassemblers[worker] ??= new Ipv6Reassembler(_nic.Stack.Options, _nic.Stack.Clock, LinkHeaderLength + Math.Max(MinimumMtu, _nic.Link.Mtu));
        ExpireFragments(worker, addresses, reassembler);
        switch (reassembler.Add(frame, ip, chain, out Span<byte> whole))
        {
            case Ipv6Reassembler.Outcome.Complete:
                stats.Add(worker, StatCounter.Ipv6PacketsReassembled);
                Ipv6Packet.TryCreate(whole[LinkHeaderLength..], out Ipv6Packet wholeIp, out _);
                if (!Ipv6ExtensionHeaderReader.TryWalk(wholeIp, out Ipv6ExtensionChain wholeChain, out _))
                {
                    stats.Add(worker, StatCounter.Ipv6MalformedPacketsReceived);
                    return;
                }
                Deliver(worker, addresses, whole, wholeChain, ref Unsafe.NullRef<Frame>(), reassembled: true);
                return;
            case Ipv6Reassembler.Outcome.Overlap:
            case Ipv6Reassembler.Outcome.TooLong:
                stats.Add(worker, StatCounter.Ipv6MalformedFragmentsReceived);
                return;
            case Ipv6Reassembler.Outcome.NoMemory:
                stats.Add(worker, StatCounter.Ipv6ReassemblyMemoryDrops);
                return;
        }
    }

    // RFC 7112's code: "IPv6 First Fragment has incomplete IPv6 Header Chain".
    private const byte IncompleteHeaderChain = 3;

    private static int UpperLayerHeaderLength(IpProtocol protocol) => protocol switch
    {
        IpProtocol.Tcp => 20,
        IpProtocol.Udp => 8,
        IpProtocol.Icmpv6 => 8,
        _ => 1,
    };

    /// <summary>Gives up the worker's datagrams whose time ran out, answering Time Exceeded code 1 for those whose first fragment arrived (RFC 8200 §4.5).</summary>
    public void ExpireFragments(int worker)
    {
        if (_reassemblers[worker] is { } reassembler)
            ExpireFragments(worker, _nic.Addresses, reassembler);
    }

    private void ExpireFragments(int worker, AddressSnapshot addresses, Ipv6Reassembler reassembler)
    {
        while (reassembler.TakeExpired(out Span<byte> first))
        {
            _nic.Stats.Add(worker, StatCounter.Ipv6ReassemblyTimeouts);
            if (!first.IsEmpty)
                SendError(worker, addresses, first, Icmpv6Type.TimeExceeded, 1, 0);
        }
    }
}
