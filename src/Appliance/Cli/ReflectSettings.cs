using System.Net;
using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Cli;

/// <summary>Everything <c>xdpstack reflect</c> was asked to do, validated.</summary>
/// <param name="Interface">The network interface to bind.</param>
/// <param name="Queues">The queue ids to serve, or null for every queue of the device.</param>
/// <param name="Cores">CPUs to pin the workers to, one per queue in order, or null for no pinning.</param>
/// <param name="Duration">How long to run, or null for until SIGINT/SIGTERM.</param>
/// <param name="StatsInterval">How often to print rates; zero prints none.</param>
/// <param name="CopyMode">Copy, zero-copy, or whatever the driver offers.</param>
/// <param name="AttachMode">Native, generic, or whatever the driver offers.</param>
/// <param name="BusyPoll">Whether the sockets use preferred busy polling.</param>
/// <param name="Batch">The most RX descriptors taken per batch.</param>
/// <param name="Swap">Which addresses are turned around.</param>
internal sealed record ReflectSettings(
    string Interface,
    int[]? Queues,
    CopyMode CopyMode,
    AttachMode AttachMode,
    bool BusyPoll,
    int Batch,
    int[]? Cores,
    TimeSpan? Duration,
    TimeSpan StatsInterval,
    SwapMode Swap)
{
    public const int DefaultBatch = 64;
    public const int MaxBatch = 1024;

    /// <summary>Where to serve metrics (<c>--metrics</c>), or null for nowhere.</summary>
    public IPEndPoint? Metrics { get; init; }
}
