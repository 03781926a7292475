namespace XdpStack.Xdp;

/// <summary>Where an XDP program runs: in the driver (native), on the generic skb path, or on the NIC.</summary>
public enum XdpAttachMode
{
    /// <summary>Try native first and fall back to generic (only meaningful when attaching).</summary>
    Auto = 0,

    /// <summary>In the driver's receive path (XDP_FLAGS_DRV_MODE).</summary>
    Native = 1,

    /// <summary>On the generic skb path, after the skb is built (XDP_FLAGS_SKB_MODE); works on any device, slower.</summary>
    Generic = 2,

    /// <summary>Offloaded to the NIC (XDP_FLAGS_HW_MODE); only reported, never requested by this library.</summary>
    Offload = 3,
}
