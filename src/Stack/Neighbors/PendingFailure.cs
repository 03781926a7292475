namespace XdpStack.Stack.Neighbors;

/// <summary>Why a packet queued for link resolution was not sent.</summary>
public enum PendingFailure
{
    /// <summary>Resolution gave up after the last multicast probe: the neighbor is unreachable (ICMP host unreachable).</summary>
    ResolutionFailed,

    /// <summary>The neighbor's queue was full, so the oldest packet made room for a new one.</summary>
    QueueFull,

    /// <summary>Too many resolutions were pending, so the oldest one's packets were dropped.</summary>
    ResolutionCancelled,

    /// <summary>The entry was evicted, removed or the cache cleared while packets waited.</summary>
    EntryRemoved,
}
