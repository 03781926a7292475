namespace XdpStack.Stack.Routing;

/// <summary>Deals the buckets of a <see cref="MultipathGroup"/> to its members in proportion to their weights, moving as few buckets from the previous deal as it can.</summary>
/// <remarks>
/// Each member's share is its weight's part of <see cref="MultipathGroup.BucketCount"/> (largest remainder, ties to
/// the earlier member). A bucket stays with its previous owner while that owner is still a member and under its
/// share; the rest (buckets of members that left, and a shrunk member's buckets past its share, the later ones first)
/// go, in bucket order, each to the member furthest below its share. So a member that leaves gives up only its own
/// buckets, one that joins takes about 1/n from each of the others, and a fresh group deals round-robin.
/// Deterministic: the same previous deal and members give the same result. Control thread only.
/// </remarks>
internal static class ResilientBuckets
{
    /// <summary>The new owner of each bucket.</summary>
    /// <param name="previous">The new member index each bucket's previous owner has, -1 when it left or there was no previous deal.</param>
    /// <param name="weights">Each member's weight, at least 1.</param>
    public static byte[] Deal(ReadOnlySpan<int> previous, ReadOnlySpan<int> weights)
    {
        const int buckets = MultipathGroup.BucketCount;
        int members = Math.Min(weights.Length, MultipathGroup.MaxMembers);
        Span<int> share = stackalloc int[members];
        Shares(weights[..members], share);
        // Cleared by hand: the assembly skips zeroing locals, stackalloc included.
        Span<int> held = stackalloc int[members];
        held.Clear();
        var owners = new byte[buckets];
        Span<bool> dealt = stackalloc bool[buckets];
        dealt.Clear();
        for (int b = 0; b < buckets; b++)
        {
            int owner = previous.IsEmpty ? -1 : previous[b];
            if ((uint)owner < (uint)members && held[owner] < share[owner])
            {
                owners[b] = (byte)owner;
                held[owner]++;
                dealt[b] = true;
            }
        }
        for (int b = 0; b < buckets; b++)
        {
            if (dealt[b])
                continue;
            int best = 0;
            for (int m = 1; m < members; m++)
            {
                if (share[m] - held[m] > share[best] - held[best])
                    best = m;
            }
            owners[b] = (byte)best;
            held[best]++;
        }
        return owners;
    }

    // Largest-remainder apportionment of the buckets by weight.
    private static void Shares(ReadOnlySpan<int> weights, Span<int> share)
    {
        long total = 0;
        foreach (int w in weights)
            total += w;
        int given = 0;
        Span<long> remainder = stackalloc long[weights.Length];
        for (int m = 0; m < weights.Length; m++)
        {
            long scaled = (long)weights[m] * MultipathGroup.BucketCount;
            share[m] = (int)(scaled / total);
            remainder[m] = scaled % total;
            given += share[m];
        }
        for (; given < MultipathGroup.BucketCount; given++)
        {
            int best = 0;
            for (int m = 1; m < weights.Length; m++)
            {
                if (remainder[m] > remainder[best])
                    best = m;
            }
            share[best]++;
            remainder[best] = -1;
        }
    }
}
