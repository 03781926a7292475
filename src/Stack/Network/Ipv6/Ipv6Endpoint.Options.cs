using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

// Hop-by-Hop and Destination Options (RFC 8200 §4.2) for packets addressed to us.
internal sealed partial class Ipv6Endpoint
{
    private const byte Pad1 = 0;
    private const byte PadN = 1;

    /// <summary>Applies the action bits of every option we do not know; false when the packet must be dropped (an error may have been sent).</summary>
    private bool ProcessOptions(int worker, AddressSnapshot addresses, Span<byte> frame, Ipv6Packet ip)
    {
        var reader = new Ipv6ExtensionHeaderReader(ip);
        while (reader.MoveNext())
        {
            Ipv6ExtensionHeader header = reader.Current;
            if (header.Type is not (IpProtocol.HopByHop or IpProtocol.Ipv6DestinationOptions))
                continue;
            Span<byte> options = header.Options;
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
                // Router Alert (5) and the padding options are the only ones we recognise; an
                // unknown one says by its top two bits what to do: skip, drop, or drop and report.
                if (type != PadN && type != 5)
                {
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
        }
        return true;
    }
}
