namespace XdpStack.Appliance.Workers;

/// <summary>How much of a frame the reflector turns around.</summary>
internal enum SwapMode
{
    /// <summary>Only the Ethernet source and destination MAC addresses.</summary>
    L2,

    /// <summary>The MACs, the IPv4/IPv6 addresses and the UDP/TCP ports.</summary>
    L3,
}
