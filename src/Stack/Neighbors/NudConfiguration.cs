namespace XdpStack.Stack.Neighbors;

/// <summary>Neighbor Unreachability Detection timers and limits; the defaults are RFC 4861 §10's and gVisor's.</summary>
public sealed record NudConfiguration
{
    /// <summary>The defaults.</summary>
    public static NudConfiguration Default { get; } = new();

    /// <summary>BaseReachableTime (RFC 4861 §10: 30 s); ReachableTime is this times a random factor.</summary>
    public TimeSpan BaseReachableTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>MIN_RANDOM_FACTOR (0.5).</summary>
    public double MinRandomFactor { get; init; } = 0.5;

    /// <summary>MAX_RANDOM_FACTOR (1.5).</summary>
    public double MaxRandomFactor { get; init; } = 1.5;

    /// <summary>RetransTimer (1 s): the gap between probes.</summary>
    public TimeSpan RetransmitTimer { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>DELAY_FIRST_PROBE_TIME (5 s).</summary>
    public TimeSpan DelayFirstProbeTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>MAX_MULTICAST_SOLICIT (3): probes sent while Incomplete before giving up.</summary>
    public int MaxMulticastProbes { get; init; } = 3;

    /// <summary>MAX_UNICAST_SOLICIT (3): probes sent while in Probe before giving up.</summary>
    public int MaxUnicastProbes { get; init; } = 3;

    /// <summary>Dynamic entries per cache before the least recently used is evicted (gVisor neighborCacheSize, 512).</summary>
    public int MaxDynamicEntries { get; init; } = 512;

    /// <summary>Packets queued per resolving neighbor; more drop the oldest (gVisor maxPendingPacketsPerResolution, 256).</summary>
    public int MaxPendingPacketsPerNeighbor { get; init; } = 256;

    /// <summary>Neighbors with queued packets at once; more cancel the oldest resolution's packets (gVisor maxPendingResolutions, 64).</summary>
    public int MaxPendingResolutions { get; init; } = 64;

    /// <summary>Returns a uniform random number in [0, 1) to pick ReachableTime; tests fix it.</summary>
    public Func<double> Random { get; init; } = System.Random.Shared.NextDouble;

    internal TimeSpan NextReachableTime() =>
        BaseReachableTime * (MinRandomFactor + ((MaxRandomFactor - MinRandomFactor) * Random()));
}
