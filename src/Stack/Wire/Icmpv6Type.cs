namespace XdpStack.Stack.Wire;

/// <summary>ICMPv6 message types (RFC 4443 §2.1; NDP in RFC 4861 §4; MLD in RFC 2710 and RFC 3810).</summary>
/// <remarks>Types below 128 are errors, which a node never sends in answer to another error (RFC 4443 §2.4).</remarks>
public enum Icmpv6Type : byte
{
    DestinationUnreachable = 1,
    PacketTooBig = 2,
    TimeExceeded = 3,
    ParameterProblem = 4,
    EchoRequest = 128,
    EchoReply = 129,
    MulticastListenerQuery = 130,
    MulticastListenerReport = 131,
    MulticastListenerDone = 132,
    RouterSolicitation = 133,
    RouterAdvertisement = 134,
    NeighborSolicitation = 135,
    NeighborAdvertisement = 136,
    Redirect = 137,
    MulticastListenerReportV2 = 143,
}
