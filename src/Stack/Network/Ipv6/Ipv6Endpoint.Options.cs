using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

// Hop-by-Hop and Destination Options (RFC 8200 §4.2): all of them for packets addressed to us,
// the Hop-by-Hop header alone for packets we forward.
internal sealed partial class Ipv6Endpoint
{
    private const byte Pad1 = 0;
    private const byte PadN = 1;
    private const byte RouterAlert = 5;

    // RFC 2711 §2.1: the Router Alert value is one 16-bit field.
    private const int RouterAlertDataLength = 2;

    /// <summary>Applies the action bits of every option we do not know; false when the packet must be dropped (an error may have been sent).</summary>
    private bool ProcessOptions(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6Packet ip) =>
        ProcessOptions(worker, addresses, frame, ip, hopByHopOnly: false);

    /// <summary>
    /// Applies the Hop-by-Hop header of a packet on its way through, the only header a router
    /// examines (RFC 8200 §4); false when the packet must be dropped. A packet without one passes.
    /// </summary>
    internal bool ProcessHopByHopOptions(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6Packet ip) =>
        ip.NextHeader != IpProtocol.HopByHop || ProcessOptions(worker, addresses, frame, ip, hopByHopOnly: true);

    private bool ProcessOptions(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6Packet ip, bool hopByHopOnly)
    {
        var reader = new Ipv6ExtensionHeaderReader(ip);
        while (reader.MoveNext())
        {
            Ipv6ExtensionHeader header = reader.Current;
            if (header.Type is not (IpProtocol.HopByHop or IpProtocol.Ipv6DestinationOptions))
            {
                if (hopByHopOnly)
                    return true;
                continue;
            }
            Span<byte> options = header.Options;
            bool hopByHop = header.Type == IpProtocol.HopByHop;
            bool routerAlertSeen = false;
            int i = 0;
            while (i < options.Length)
            {
                byte type = options[i];
                if (type == Pad1)
                {
                    i++;
                    continue;
                }
                if (i + 1 >= options.Length || i + 2 + options[i + 1] > options.Length)
                {
                    _nic.Stats.Add(worker, StatCounter.Ipv6MalformedPacketsReceived);
                    return false;
                }
                if (type == RouterAlert && hopByHop)
                {
                    // RFC 2711 §3: "There MUST only be one option of this type, regardless of value,
                    // per Hop-by-Hop header"; gVisor drops a second one as malformed, and Linux
                    // (ipv6_hop_ra) drops one whose length is not 2.
                    if (routerAlertSeen || options[i + 1] != RouterAlertDataLength)
                    {
                        _nic.Stats.Add(worker, StatCounter.Ipv6MalformedPacketsReceived);
                        return false;
                    }
                    routerAlertSeen = true;
                }
                else if (type != PadN)
                {
                    // An option we do not recognise says by its top two bits what to do: skip, drop,
                    // drop and report, or drop and report unless the destination is a group.
                    int action = type >> 6;
                    if (action != 0)
                    {
                        if (action == 2 || (action == 3 && !ip.Destination.IsMulticast))
                            SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, 2, (uint)(header.Offset + 2 + i));
                        _nic.Stats.Add(worker, StatCounter.Ipv6UnknownOptionDrops);
                        return false;
                    }
                }
                i += 2 + options[i + 1];
            }
            if (hopByHopOnly)
                return true;
        }
        if (reader.Error != WireError.None && hopByHopOnly)
        {
            // The Hop-by-Hop header itself runs past the packet.
            _nic.Stats.Add(worker, StatCounter.Ipv6MalformedPacketsReceived);
            return false;
        }
        return true;
    }
}
