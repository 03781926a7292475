using XdpStack.Xdp;

namespace XdpStack.Fuzz.Targets;

/// <summary>
/// The NETLINK_ROUTE reply parsers of RouteNetlink (RTM_NEWLINK attributes with the nested IFLA_XDP, and NLMSG_ERROR with
/// its extended-ack message): a malformed reply must end in an XdpException naming the call, nothing else.
/// </summary>
/// <remarks>The first input octet picks the parser (even: link reply, odd: error check); the rest is the reply.</remarks>
internal sealed class NetlinkTarget : FuzzTarget
{
    public override string Name => "netlink";

    public override string Covers => "RouteNetlink.ParseLink and CheckError on any reply: attributes or an XdpException";

    public override int MaxLength => 4096;

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        ReadOnlySpan<byte> reply = input[1..];
        try
        {
            if ((input[0] & 1) == 0)
            {
                LinkAttributes link = RouteNetlink.ParseLink(reply);
                _ = link.Name.Length + link.Mtu + link.NumRxQueues + link.NumTxQueues + link.XdpAttached + link.XdpProgramId;
            }
            else
            {
                RouteNetlink.CheckError(reply, "netlink fuzz");
            }
        }
        catch (XdpException)
        {
            // The parsers' way of refusing a reply.
        }
    }

    public override IEnumerable<byte[]> Seeds(SeedSource source) => NetlinkSeeds.All();
}
