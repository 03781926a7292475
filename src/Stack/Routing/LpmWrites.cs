namespace XdpStack.Stack.Routing;

/// <summary>The parts of an <see cref="Ipv4Lpm"/> that one round of <see cref="Ipv4LpmBuilder"/> changes wrote: tbl24 in chunks of 4,096 entries (16 KiB), and tbl8 groups, each listed once.</summary>
/// <remarks>The other table of a double-buffered builder is brought up to date by copying just these.</remarks>
internal sealed class LpmWrites
{
    internal const int Tbl24ChunkShift = 12;
    internal const int Tbl24ChunkEntries = 1 << Tbl24ChunkShift;

    private readonly ulong[] _chunkBits = new ulong[(Ipv4Lpm.Tbl24Entries >> Tbl24ChunkShift) / 64];
    private readonly List<int> _chunks = [];
    private ulong[] _groupBits = new ulong[16];
    private readonly List<int> _groups = [];

    /// <summary>The written tbl24 chunks, in the order first written.</summary>
    public List<int> Tbl24Chunks => _chunks;

    /// <summary>The written tbl8 groups, in the order first written.</summary>
    public List<int> Groups => _groups;

    /// <summary>Notes that <paramref name="count"/> tbl24 entries from <paramref name="first"/> were written.</summary>
    public void Tbl24(int first, int count)
    {
        for (int c = first >> Tbl24ChunkShift, last = (first + count - 1) >> Tbl24ChunkShift; c <= last; c++)
        {
            ref ulong word = ref _chunkBits[c >> 6];
            ulong bit = 1UL << (c & 63);
            if ((word & bit) == 0)
            {
                word |= bit;
                _chunks.Add(c);
            }
        }
    }

    /// <summary>Notes that tbl8 group <paramref name="group"/> was written.</summary>
    public void Group(int group)
    {
        if ((group >> 6) >= _groupBits.Length)
            Array.Resize(ref _groupBits, Math.Max(_groupBits.Length * 2, (group >> 6) + 1));
        ref ulong word = ref _groupBits[group >> 6];
        ulong bit = 1UL << (group & 63);
        if ((word & bit) == 0)
        {
            word |= bit;
            _groups.Add(group);
        }
    }

    /// <summary>Forgets every write.</summary>
    public void Clear()
    {
        foreach (int c in _chunks)
            _chunkBits[c >> 6] = 0;
        foreach (int g in _groups)
            _groupBits[g >> 6] = 0;
        _chunks.Clear();
        _groups.Clear();
    }
}
