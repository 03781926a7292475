using XdpStack.Stack.Routing;

namespace XdpStack.Stack.FastPath;

/// <summary>Collects the multipath groups of a snapshot being built: per group, the fast next hop of each of its <see cref="MultipathGroup.BucketCount"/> buckets.</summary>
/// <remarks>
/// The LPM maps a multipath prefix to <see cref="GroupFlag"/> | group index instead of a hop id; the data path then
/// hashes the frame (<see cref="MultipathHash"/>) and reads the hop of bucket (hash mod 256) from
/// <see cref="ToArray"/>[group × 256 + bucket]. Each bucket's hop is the one <see cref="MultipathGroup.MemberFor{TFilter}"/>
/// names for the stack's NIC states, so a down member's buckets already point where the full stack would send them.
/// </remarks>
internal sealed class FastMultipathTable
{
    /// <summary>Marks an LPM value as a group index rather than a hop id (hop ids stay far below it).</summary>
    public const int GroupFlag = 1 << 23;

    private readonly List<int> _hops = [];

    /// <summary>Adds a group whose bucket b forwards to hop <paramref name="bucketHops"/>[b]; returns the value its prefix maps to.</summary>
    public int Add(ReadOnlySpan<int> bucketHops)
    {
        if (bucketHops.Length != MultipathGroup.BucketCount)
            throw new ArgumentException("one hop per bucket", nameof(bucketHops));
        int index = _hops.Count / MultipathGroup.BucketCount;
        foreach (int hop in bucketHops)
            _hops.Add(hop);
        return GroupFlag | index;
    }

    /// <summary>Every group's bucket hops, group after group.</summary>
    public int[] ToArray() => [.. _hops];
}
