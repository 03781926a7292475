using System.Runtime.InteropServices;

namespace XdpStack.Appliance.Workers;

/// <summary>One worker's counters, alone on their cache lines.</summary>
/// <remarks>
/// The owning worker writes with plain stores (it is the only writer, and aligned 64-bit stores
/// do not tear); the stats thread reads with <see cref="Snapshot"/>. The 64 bytes in front keep
/// the fields off the cache line of whatever precedes them in an array (another worker's slot or
/// the array header), and the 192-byte stride keeps two workers apart.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct WorkerCounters
{
    /// <summary>Frames taken from the RX ring.</summary>
    [FieldOffset(64)] public ulong RxPackets;

    /// <summary>Bytes of those frames.</summary>
    [FieldOffset(72)] public ulong RxBytes;

    /// <summary>Frames put on the TX ring.</summary>
    [FieldOffset(80)] public ulong TxPackets;

    /// <summary>Frames dropped: <see cref="ShortFrameDrops"/> plus <see cref="TxRingFullDrops"/>.</summary>
    [FieldOffset(88)] public ulong Dropped;

    /// <summary>sendto() kicks because the TX ring asked for a wakeup.</summary>
    [FieldOffset(96)] public ulong TxWakeups;

    /// <summary>poll() calls made while idle because the fill ring asked for a wakeup.</summary>
    [FieldOffset(104)] public ulong IdlePolls;

    /// <summary>Batches that carried at least one frame.</summary>
    [FieldOffset(112)] public ulong Batches;

    /// <summary>Frames returned by the completion ring.</summary>
    [FieldOffset(120)] public ulong Completions;

    /// <summary>Frames dropped for being shorter than an Ethernet header.</summary>
    [FieldOffset(128)] public ulong ShortFrameDrops;

    /// <summary>Frames dropped because the TX ring had no room.</summary>
    [FieldOffset(136)] public ulong TxRingFullDrops;

    /// <summary>RX-side wake-up syscalls: idle poll() sleeps and busy-poll kicks.</summary>
    [FieldOffset(144)] public ulong RxWakeups;

    /// <summary>Bytes of the frames put on the TX ring.</summary>
    [FieldOffset(152)] public ulong TxBytes;

    /// <summary>Reads every field once, for a thread other than the owner.</summary>
    public readonly CounterSnapshot Snapshot() => new(
        Volatile.Read(in RxPackets), Volatile.Read(in RxBytes), Volatile.Read(in TxPackets),
        Volatile.Read(in Dropped), Volatile.Read(in TxWakeups), Volatile.Read(in IdlePolls),
        Volatile.Read(in Batches), Volatile.Read(in Completions));
}
