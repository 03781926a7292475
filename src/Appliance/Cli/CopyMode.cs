namespace XdpStack.Appliance.Cli;

/// <summary>Which AF_XDP binding the user asked for.</summary>
internal enum CopyMode
{
    /// <summary>Zero-copy where the driver offers it, copy otherwise.</summary>
    Auto,

    /// <summary>Always copy frames between driver and UMEM.</summary>
    Copy,

    /// <summary>Zero-copy, or fail.</summary>
    ZeroCopy,
}
