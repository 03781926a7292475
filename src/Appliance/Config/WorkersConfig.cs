using System.Collections.Immutable;

namespace XdpStack.Appliance.Config;

/// <summary>The <c>[workers]</c> section: the data-path threads, one per queue index.</summary>
/// <param name="Cores">
/// The CPU that worker <c>i</c> (the one serving queue index <c>i</c> of every interface) is pinned to
/// is <c>Cores[i]</c>; empty when the workers are not pinned.
/// </param>
/// <param name="Batch">The most frames taken per ring operation.</param>
/// <param name="Nice">
/// The worker threads' nice value. Below 0 by default: on a CPU a worker shares with the kernel thread that runs its
/// device's RX (NAPI), the worker then gets the CPU when both want it, so the kernel does not copy frames into an RX
/// ring the worker has no time to empty; a worker sleeps when its rings are empty, so the kernel thread is not starved.
/// </param>
internal sealed record WorkersConfig(ImmutableArray<int> Cores, int Batch, int Nice = WorkersConfig.DefaultNice)
{
    public const int DefaultBatch = 64;
    public const int MaxBatch = 256;
    public const int DefaultNice = -10;

    public static WorkersConfig Default { get; } = new([], DefaultBatch);

    public bool IsPinned => !Cores.IsEmpty;

    // A record compares ImmutableArray by reference; the reload diff needs the values compared.
    public bool Equals(WorkersConfig? other) => other is not null && Batch == other.Batch && Nice == other.Nice && Cores.SequenceEqual(other.Cores);

    public override int GetHashCode() => HashCode.Combine(Batch, Nice, Cores.Length);
}
