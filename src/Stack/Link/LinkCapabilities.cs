namespace XdpStack.Stack.Link;

/// <summary>What a link endpoint can do or needs, as in gVisor's <c>LinkEndpointCapabilities</c>.</summary>
[Flags]
public enum LinkCapabilities
{
    None = 0,

    /// <summary>Destinations need link-address resolution (ARP, NDP) before frames can be sent.</summary>
    ResolutionRequired = 1 << 0,

    /// <summary>The device verified L3/L4 checksums of received frames; the stack may skip them.</summary>
    RxChecksumOffload = 1 << 1,

    /// <summary>The device fills in L4 checksums of sent frames.</summary>
    TxChecksumOffload = 1 << 2,

    /// <summary>A loopback device: loopback addresses are legal on it.</summary>
    Loopback = 1 << 3,
}
