using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Routing;

/// <summary>The routes of one prefix and metric that share its traffic (ECMP): a table of <see cref="BucketCount"/> hash buckets, each owned by one member.</summary>
/// <remarks>
/// <para>
/// A flow's hash picks a bucket and the bucket's owner forwards it (resilient hashing, as Linux nexthop groups of type
/// <c>resilient</c>). Owners change only where membership does: <see cref="RouteTableWriter"/> derives each
/// publication's table from the previous one (<see cref="ResilientBuckets"/>), so a member that leaves hands over
/// only its own buckets and one that joins takes buckets evenly from the others; a route change elsewhere moves
/// nothing.
/// </para>
/// <para>
/// A member whose NIC is down (the caller's <see cref="INicFilter"/> refuses it) stays in the table: its buckets go
/// to the usable members in turn by bucket number, worked out per packet, so flows of the other members never move
/// and the down member's flows come back when its NIC does. Immutable once published, like the table holding it.
/// </para>
/// </remarks>
public sealed class MultipathGroup
{
    /// <summary>Buckets per group (a power of two: the low bits of the flow hash pick one).</summary>
    public const int BucketCount = 256;

    /// <summary>The most members a group has; routes past it (in lookup order) get no buckets.</summary>
    public const int MaxMembers = 256;

    private readonly int[] _positions;
    private readonly int[] _nics;
    private readonly byte[] _buckets;

    internal MultipathGroup(int[] positions, int[] nics, byte[] buckets)
    {
        _positions = positions;
        _nics = nics;
        _buckets = buckets;
    }

    /// <summary>How many routes share the traffic.</summary>
    public int MemberCount => _positions.Length;

    /// <summary>The position in the family's route list of member <paramref name="member"/>.</summary>
    public int PositionOf(int member) => _positions[member];

    /// <summary>The member that owns <paramref name="bucket"/> while every member's NIC is up.</summary>
    public int OwnerOf(int bucket) => _buckets[bucket];

    /// <summary>The member that forwards flows of <paramref name="bucket"/> through a NIC <paramref name="filter"/> accepts, or -1 when it accepts none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int MemberFor<TFilter>(int bucket, TFilter filter)
        where TFilter : INicFilter, allows ref struct
    {
        int owner = _buckets[bucket & (BucketCount - 1)];
        return filter.IsUsable(_nics[owner]) ? owner : Substitute(bucket & (BucketCount - 1), filter);
    }

    /// <summary>The position in the family's route list of the route that forwards a flow with hash <paramref name="flowHash"/>, or -1 when no member's NIC is usable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PositionFor<TFilter>(uint flowHash, TFilter filter)
        where TFilter : INicFilter, allows ref struct
    {
        int member = MemberFor((int)(flowHash & (BucketCount - 1)), filter);
        return member < 0 ? -1 : _positions[member];
    }

    // The owner is down: the bucket goes to usable member number (bucket mod usable members). Only the down owner's
    // flows move, they spread over the others, and the choice needs nothing but the bucket, so a fast-path snapshot
    // can bake it in and agree with the full stack packet for packet.
    private int Substitute<TFilter>(int bucket, TFilter filter)
        where TFilter : INicFilter, allows ref struct
    {
        int[] nics = _nics;
        int usable = 0;
        for (int m = 0; m < nics.Length; m++)
        {
            if (filter.IsUsable(nics[m]))
                usable++;
        }
        if (usable == 0)
            return -1;
        int k = bucket % usable;
        for (int m = 0; m < nics.Length; m++)
        {
            if (filter.IsUsable(nics[m]) && k-- == 0)
                return m;
        }
        return -1;
    }
}
