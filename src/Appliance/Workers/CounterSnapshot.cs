namespace XdpStack.Appliance.Workers;

/// <summary>A copy of one worker's counters at one moment.</summary>
internal readonly record struct CounterSnapshot(
    ulong RxPackets, ulong RxBytes, ulong TxPackets, ulong Dropped,
    ulong TxWakeups, ulong IdlePolls, ulong Batches, ulong Completions)
{
    public static CounterSnapshot operator -(CounterSnapshot a, CounterSnapshot b) => new(
        a.RxPackets - b.RxPackets, a.RxBytes - b.RxBytes, a.TxPackets - b.TxPackets, a.Dropped - b.Dropped,
        a.TxWakeups - b.TxWakeups, a.IdlePolls - b.IdlePolls, a.Batches - b.Batches, a.Completions - b.Completions);

    public static CounterSnapshot operator +(CounterSnapshot a, CounterSnapshot b) => new(
        a.RxPackets + b.RxPackets, a.RxBytes + b.RxBytes, a.TxPackets + b.TxPackets, a.Dropped + b.Dropped,
        a.TxWakeups + b.TxWakeups, a.IdlePolls + b.IdlePolls, a.Batches + b.Batches, a.Completions + b.Completions);
}
