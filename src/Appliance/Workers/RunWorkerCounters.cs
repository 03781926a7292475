namespace XdpStack.Appliance.Workers;

/// <summary>What one run worker counted, beside its ports' own counters; written only by the worker (plain stores), read by the control thread.</summary>
internal sealed class RunWorkerCounters
{
    private static readonly int s_dropKinds = Enum.GetValues<WorkerDrop>().Length;

    /// <param name="nicSlots">One more than the largest NIC id value.</param>
    public RunWorkerCounters(int nicSlots)
    {
        NicSlots = nicSlots;
        Drops = new ulong[nicSlots * s_dropKinds];
        VlanRxPackets = new ulong[nicSlots];
        VlanRxBytes = new ulong[nicSlots];
    }

    public int NicSlots { get; }

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

    /// <summary>Written by control threads under the worker's producer lock.</summary>
    public ulong ControlHandoffs;
    public ulong IdlePolls;

    /// <summary>Multi-buffer packets gathered from a chain of RX descriptors into one contiguous frame.</summary>
    public ulong JumboReceived;

    /// <summary>Packets larger than one frame sent as a chain of TX descriptors.</summary>
    public ulong JumboSent;

    /// <summary>The worker thread's allocated bytes (GC.GetAllocatedBytesForCurrentThread) when it last went idle, or at its last sample under load.</summary>
    public long AllocatedBytes;

    /// <summary>Drops by interface and reason: index <c>nic * kinds + (int)reason</c>, read with the Dropped overloads.</summary>
    public readonly ulong[] Drops;

    /// <summary>VlanRxPackets[n], VlanRxBytes[n]: frames (and their bytes, tag stripped) the VLAN demux gave to the sub-interface with NIC id value n.</summary>
    public readonly ulong[] VlanRxPackets;

    /// <inheritdoc cref="VlanRxPackets"/>
    public readonly ulong[] VlanRxBytes;

    /// <summary>Counts one frame of <paramref name="length"/> bytes the demux gave to the sub-interface with NIC id value <paramref name="nic"/>.</summary>
    public void VlanRx(int nic, int length)
    {
        VlanRxPackets[nic]++;
        VlanRxBytes[nic] += (ulong)length;
    }

    /// <summary>Counts one drop of <paramref name="reason"/> on the NIC with id value <paramref name="nic"/>.</summary>
    public void Drop(int nic, WorkerDrop reason, ulong count = 1) => Drops[(nic * s_dropKinds) + (int)reason] += count;

    /// <summary>Drops of <paramref name="reason"/> on the NIC with id value <paramref name="nic"/>, read from another thread.</summary>
    public ulong Dropped(int nic, WorkerDrop reason) => Volatile.Read(ref Drops[(nic * s_dropKinds) + (int)reason]);

    /// <summary>Drops of <paramref name="reason"/> on every NIC.</summary>
    public ulong Dropped(WorkerDrop reason)
    {
        ulong sum = 0;
        for (int nic = 0; nic < NicSlots; nic++)
            sum += Dropped(nic, reason);
        return sum;
    }
}
