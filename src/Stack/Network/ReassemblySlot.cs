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
    /// <summary>Most fragments one datagram may arrive in; one more drops the datagram.</summary>
    public const int MaxRanges = 64;

    // The [start, end) data ranges held; they never overlap one another.
    public readonly (int Start, int End)[] Ranges = new (int, int)[MaxRanges];
    public bool InUse;
    public TKey Key;
    public TimeSpan Started;
    public int RangeCount;

    // Data bytes held, which is also what the slot charges to the memory limit.
    public int Received;

    // The datagram's data length, known once the last fragment came; -1 before.
    public int Total;

    // Headers then data: allocated on first use and reused by later datagrams.
    public byte[]? Buffer;

    /// <summary>Whether the slot is full of fragments.</summary>
    public bool RangesFull => RangeCount == MaxRanges;

    /// <summary>Takes the slot for a new datagram.</summary>
    public void Start(TKey key, TimeSpan now)
    {
        InUse = true;
        Key = key;
        Started = now;
        RangeCount = 0;
        Received = 0;
        Total = -1;
        Clear();
    }

    /// <summary>Where a fragment covering [<paramref name="offset"/>, <paramref name="end"/>) falls against the ranges held.</summary>
    public FragmentPlacement Place(int offset, int end)
    {
        for (int i = 0; i < RangeCount; i++)
        {
            (int s, int e) = Ranges[i];
            if (s == offset && e == end)
                return FragmentPlacement.Duplicate;
            if (offset < e && s < end)
                return FragmentPlacement.Overlap;
        }
        return FragmentPlacement.New;
    }

    /// <summary>Resets what the family keeps beyond the shared fields.</summary>
    protected abstract void Clear();
}
