namespace XdpStack.Xdp;

/// <summary>How an AF_XDP socket moves frames between the driver and the UMEM.</summary>
public enum XskBindMode
{
    /// <summary>Zero-copy when the driver supports it, else copy (no mode flag: the kernel probes in that order).</summary>
    Auto = 0,

    /// <summary>Copy mode (XDP_COPY): works on every device.</summary>
    Copy = 1,

    /// <summary>Zero-copy (XDP_ZEROCOPY): bind fails when the driver cannot do it.</summary>
    ZeroCopy = 2,
}
