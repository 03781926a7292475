namespace XdpStack.Appliance.Workers;

/// <summary>What one run worker counted, beside its ports' own counters; written only by the worker (plain stores), read by the control thread.</summary>
internal sealed class RunWorkerCounters
{
    public ulong Batches;
    public ulong FastForwardedIpv4;
    public ulong FastForwardedIpv6;
    public ulong SlowPath;
    public ulong InPlaceReplies;

    /// <summary>Frames the stack built (<c>WriteFrame</c>) or took from a hand-off, copied into a pool frame.</summary>
    public ulong StackBuilt;
    public ulong HandoffsOut;

    /// <summary>Frames taken from other workers' hand-offs (not counting control threads' ones).</summary>
    public ulong HandoffsIn;
    public ulong HandoffFullDrops;

    /// <summary>Written by control threads under the worker's producer lock.</summary>
    public ulong ControlHandoffs;
    public ulong ControlHandoffDrops;
    public ulong PoolEmptyDrops;
    public ulong ForwardDrops;
    public ulong DetachedDrops;
    public ulong IdlePolls;

    /// <summary>Multi-buffer packets gathered from a chain of RX descriptors into one contiguous frame.</summary>
    public ulong JumboReceived;

    /// <summary>Packets larger than one frame sent as a chain of TX descriptors.</summary>
    public ulong JumboSent;

    /// <summary>Packets larger than the worker can hold (a chain longer than the interfaces' MTU allows, or a frame to send without multi-buffer).</summary>
    public ulong OversizeDrops;

    /// <summary>The worker thread's allocated bytes (GC.GetAllocatedBytesForCurrentThread) when it last went idle.</summary>
    public long AllocatedBytes;
}
