namespace XdpStack.Stack.Network;

/// <summary>One datagram being reassembled: its key, the fragment ranges held, and the buffer they are copied into.</summary>
/// <remarks>
/// A family derives from it to keep what only it needs (the IPv4 header length, the IPv6 first
/// fragment for Time Exceeded) and clears that in <see cref="Clear"/>. The object and its buffer
/// live as long as the reassembler, so a completed or expired datagram stays readable until the
/// slot is started again.
/// </remarks>
/// <typeparam name="TKey">What identifies a datagram in its family (RFC 791 §3.2, RFC 8200 §4.5).</typeparam>
internal abstract class ReassemblySlot<TKey>
    where TKey : struct, IEquatable<TKey>
{
    /// <summary>Most separate runs of data one datagram may hold (fragments that arrive in order join one run); one more drops the datagram.</summary>
    public const int MaxRanges = 64;

    // The [start, end) runs of data held, as Linux's inet_frag_queue_insert keeps them: a fragment that starts where
    // the highest run ends joins it, any other starts a run of its own. Runs never overlap one another.
    public readonly (int Start, int End)[] Ranges = new (int, int)[MaxRanges];
    public bool InUse;
    public TKey Key;
    public TimeSpan Started;
    public int RangeCount;

    // The run with the highest offset, which later fragments in order join.
    public int TailIndex;

    // Data bytes held, which is also what the slot charges to the memory limit.
    public int Received;

    // The datagram's data length, known once the last fragment came; -1 before.
    public int Total;

    // The furthest end any fragment claimed (Linux's q.len): a last fragment may not end before it.
    public int MaxEnd;

    // Headers then data: allocated on first use and reused by later datagrams.
    public byte[]? Buffer;

    /// <summary>Whether the slot holds as many runs as it can.</summary>
    public bool RangesFull => RangeCount == MaxRanges;

    /// <summary>Takes the slot for a new datagram.</summary>
    public void Start(TKey key, TimeSpan now)
    {
        InUse = true;
        Key = key;
        Started = now;
        RangeCount = 0;
        TailIndex = 0;
        Received = 0;
        Total = -1;
        MaxEnd = 0;
        Clear();
    }

    /// <summary>
    /// Judges a fragment covering [<paramref name="offset"/>, <paramref name="end"/>) as Linux's ip_frag_queue and
    /// ip6_frag_queue do, in their order: a last fragment that ends before data already claimed or where another last
    /// one ended, data past a known end, or no data at all condemn the datagram; otherwise its place against the runs
    /// held decides (<see cref="Place"/>). A last fragment's end is recorded even when it turns out a duplicate.
    /// </summary>
    public FragmentPlacement Admit(int offset, int end, bool more)
    {
        if (!more)
        {
            if (end < MaxEnd || (Total >= 0 && end != Total))
                return FragmentPlacement.Overlap;
            Total = end;
            MaxEnd = end;
        }
        else if (end > MaxEnd)
        {
            if (Total >= 0)
                return FragmentPlacement.Overlap;
            MaxEnd = end;
        }
        if (end == offset)
            return FragmentPlacement.Overlap;
        return Place(offset, end);
    }

    /// <summary>
    /// Where a fragment covering [<paramref name="offset"/>, <paramref name="end"/>) falls against the runs held, as
    /// Linux's inet_frag_queue_insert decides: inside one run, a duplicate; past the highest run, new (joining it
    /// when it starts where that run ends); across any run boundary, an overlap (RFC 5722).
    /// </summary>
    public FragmentPlacement Place(int offset, int end)
    {
        if (RangeCount == 0)
            return FragmentPlacement.New;
        int tailEnd = Ranges[TailIndex].End;
        if (end > tailEnd)
            return offset < tailEnd ? FragmentPlacement.Overlap : FragmentPlacement.New;
        for (int i = 0; i < RangeCount; i++)
        {
            (int s, int e) = Ranges[i];
            if (end <= s || offset >= e)
                continue;
            return offset >= s && end <= e ? FragmentPlacement.Duplicate : FragmentPlacement.Overlap;
        }
        return FragmentPlacement.New;
    }

    /// <summary>Records a fragment <see cref="Place"/> called new: it joins the highest run when it starts where that ends, else it starts a run.</summary>
    public void AddRange(int offset, int end)
    {
        if (RangeCount > 0 && offset == Ranges[TailIndex].End)
        {
            Ranges[TailIndex].End = end;
            return;
        }
        bool highest = RangeCount == 0 || offset >= Ranges[TailIndex].End;
        Ranges[RangeCount] = (offset, end);
        if (highest)
            TailIndex = RangeCount;
        RangeCount++;
    }

    /// <summary>Resets what the family keeps beyond the shared fields.</summary>
    protected abstract void Clear();
}
