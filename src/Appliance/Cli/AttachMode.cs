namespace XdpStack.Appliance.Cli;

/// <summary>Where the redirect program runs: in the driver or on the generic skb path.</summary>
internal enum AttachMode
{
    /// <summary>Native where the driver supports it, generic otherwise.</summary>
    Auto,

    /// <summary>In the driver (XDP_FLAGS_DRV_MODE), or fail.</summary>
    Native,

    /// <summary>On the skb path (XDP_FLAGS_SKB_MODE), slower but works everywhere.</summary>
    Generic,
}
