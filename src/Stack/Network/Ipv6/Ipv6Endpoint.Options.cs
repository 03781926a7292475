using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

// Hop-by-Hop and Destination Options (RFC 8200 §4.2): all of them for packets addressed to us,
// the Hop-by-Hop header alone for packets we forward.
internal sealed partial class Ipv6Endpoint
{
    private const byte Pad1 = 0;
    private const byte PadN = 1;
    private const byte RouterAlert = 5;

    private const byte Jumbo = 0xC2;

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
            // Padding in a row: Linux's ip6_parse_tlv refuses more than 7 octets of it (RFC 4942 §2.1.9.5), and
            // PadN that carries anything but zeros.
            int padding = 0;
            int i = 0;
            while (i < options.Length)
            {
                byte type = options[i];
                if (type == Pad1)
                {
                    if (++padding > 7)
                        return DropMalformedOptions(worker);
                    i++;
                    continue;
                }
                if (i + 1 >= options.Length || i + 2 + options[i + 1] > options.Length)
                    return DropMalformedOptions(worker);
                if (type == PadN)
                {
                    padding += 2 + options[i + 1];
                    if (padding > 7 || options.Slice(i + 2, options[i + 1]).ContainsAnyExcept((byte)0))
                        return DropMalformedOptions(worker);
                    i += 2 + options[i + 1];
                    continue;
                }
                padding = 0;
                if (type == Jumbo && hopByHop)
                {
                    // RFC 2675, as Linux's ipv6_hop_jumbo: a length below 65536 points at the value, a jumbogram
                    // whose fixed header gives a payload length points at the option; both are code 0. A
                    // real jumbogram cannot be more than a link of this stack carries: dropped.
                    int at = header.Offset + 2 + i;
                    if (options[i + 1] != 4 || (at & 3) != 2)
                        return DropMalformedOptions(worker);
                    uint jumboLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(options[(i + 2)..]);
                    if (jumboLength <= ushort.MaxValue)
                        SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, 0, (uint)(at + 2));
                    else if (ip.PayloadLength != 0)
                        SendError(worker, addresses, frame, Icmpv6Type.ParameterProblem, 0, (uint)at);
                    return DropMalformedOptions(worker);
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
                else
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

    private bool DropMalformedOptions(int worker)
    {
        _nic.Stats.Add(worker, StatCounter.Ipv6MalformedPacketsReceived);
        return false;
    }
}
