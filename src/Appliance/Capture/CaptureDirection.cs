namespace XdpStack.Appliance.Capture;

/// <summary>Which way a captured frame went through its socket.</summary>
internal enum CaptureDirection : byte
{
    /// <summary>Taken from the RX ring, as the interface received it (before any rewrite).</summary>
    Received = 0,

    /// <summary>Put on the TX ring, as it leaves (forwarded, answered in place, or built by the stack).</summary>
    Transmitted = 1,
}
