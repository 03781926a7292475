namespace XdpStack.Appliance.Punt;

/// <summary>What went through one interface's TAP; the punt thread writes every field, scrapes read them (a moment's view).</summary>
internal sealed class PuntCounters
{
    /// <summary>Frames (and their bytes) written to the TAP: the kernel received them.</summary>
    public ulong PuntedFrames;
    public ulong PuntedBytes;

    /// <summary>Frames (and their bytes) the kernel sent on the TAP and the appliance queued out of the interface.</summary>
    public ulong InjectedFrames;
    public ulong InjectedBytes;

    /// <summary>The kernel's ARP replies and neighbour advertisements for addresses the appliance answers for itself, not sent.</summary>
    public ulong Suppressed;

    /// <summary>Frames the kernel refused on the TAP (write failed).</summary>
    public ulong TapWriteFailed;

    /// <summary>Frames the kernel sent that the interface could not take (the control hand-off was full, or the frame too long).</summary>
    public ulong InjectFailed;
}
