using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>Keeps an IPv4 rule set and publishes it as <see cref="PersistentIpv4Lpm"/> versions that share every chunk a change did not touch.</summary>
/// <remarks>
/// The algorithms are <see cref="Ipv4LpmBuilder"/>'s (rte_lpm's prefix expansion; on delete, the next-longest covering
/// rule). The first write to a chunk after a <see cref="Build"/> copies that chunk (16 KiB), and the first change copies
/// the chunk arrays; later writes before the next build go to the copies. A freed tbl8 group is reusable at once,
/// since its chunk is copied before it is written again. Not thread-safe: one control thread owns a builder.
/// </remarks>
public sealed class PersistentIpv4LpmBuilder
{
    private const int Tbl24Chunks = PersistentIpv4Lpm.Tbl24Chunks;
    private const int ChunkShift = PersistentIpv4Lpm.ChunkShift;
    private const int ChunkMask = PersistentIpv4Lpm.ChunkMask;
    private const int GroupsPerChunkShift = PersistentIpv4Lpm.GroupsPerChunkShift;
    private const int GroupsPerChunk = PersistentIpv4Lpm.GroupsPerChunk;
    private const int MaxGroups = 1 << 22;

    private static readonly uint[] ZeroChunk = new uint[PersistentIpv4Lpm.ChunkEntries];

    private readonly Dictionary<uint, int>[] _rules = new Dictionary<uint, int>[33];
    private readonly Stack<int> _freeGroups = new();
    // The chunk arrays being changed; while _shared they are also the published version's and must be copied first.
    private uint[][] _tbl24 = NewTbl24();
    private uint[][] _tbl8 = [];
    private bool _shared;
    // Chunks already copied (or created) since the last build: written in place until the next one.
    private readonly bool[] _own24 = new bool[Tbl24Chunks];
    private bool[] _own8 = [];
    private int _groupsTaken;
    private int _groupsUsed;
    private int _count;
    private PersistentIpv4Lpm? _published;

    /// <summary>Creates an empty builder.</summary>
    public PersistentIpv4LpmBuilder()
    {
        for (int i = 0; i < _rules.Length; i++)
            _rules[i] = [];
    }

    /// <summary>The number of rules.</summary>
    public int Count => _count;

    /// <summary>Adds a rule, or changes the next hop of an existing one; returns true when the rule is new.</summary>
    public bool Add(Ipv4Prefix prefix, int nextHop) => Add(prefix.Address.Value, prefix.Length, nextHop);

    /// <summary>Removes a rule; returns false when there was no such rule.</summary>
    public bool Remove(Ipv4Prefix prefix) => Remove(prefix.Address.Value, prefix.Length);

    /// <summary>Adds a rule, or changes the next hop of an existing one; host bits of <paramref name="prefix"/> are ignored.</summary>
    public bool Add(uint prefix, int length, int nextHop)
    {
        if ((uint)length > 32)
            ThrowLength();
        if ((uint)nextHop > Ipv4Lpm.MaxNextHop)
            throw new ArgumentOutOfRangeException(nameof(nextHop), $"a next hop is 0 to {Ipv4Lpm.MaxNextHop}");
        prefix &= Ipv4LpmBuilder.Mask(length);
        Dictionary<uint, int> rules = _rules[length];
        bool added = !rules.TryGetValue(prefix, out int old);
        if (!added && old == nextHop)
            return false;
        rules[prefix] = nextHop;
        if (added)
            _count++;
        Changing();
        uint entry = Entry(nextHop, length);
        if (length <= 24)
            AddShort(prefix, length, entry);
        else
            AddLong(prefix, length, entry);
        return added;
    }

    /// <summary>Removes a rule; host bits of <paramref name="prefix"/> are ignored. Returns false when there was no such rule.</summary>
    public bool Remove(uint prefix, int length)
    {
        if ((uint)length > 32)
            ThrowLength();
        prefix &= Ipv4LpmBuilder.Mask(length);
        if (!_rules[length].Remove(prefix))
            return false;
        _count--;
        Changing();
        uint replacement = 0;
        for (int d = length - 1; d >= 0; d--)
        {
            if (_rules[d].TryGetValue(prefix & Ipv4LpmBuilder.Mask(d), out int nh))
            {
                replacement = Entry(nh, d);
                break;
            }
        }
        if (length <= 24)
            RemoveShort(prefix, length, replacement);
        else
            RemoveLong(prefix, length, replacement);
        return true;
    }

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        foreach (Dictionary<uint, int> rules in _rules)
            rules.Clear();
        _count = 0;
        _freeGroups.Clear();
        _groupsTaken = 0;
        _groupsUsed = 0;
        _tbl24 = NewTbl24();
        _tbl8 = [];
        _own8 = [];
        Array.Clear(_own24);
        _shared = false;
        _published = null;
    }

    /// <summary>Returns a version holding the current rules; the builder never writes to it afterwards.</summary>
    /// <remarks>Building twice with no change in between returns the same instance.</remarks>
    public PersistentIpv4Lpm Build()
    {
        if (_published is not null && _shared)
            return _published;
        _published = new PersistentIpv4Lpm(_tbl24, _tbl8, _count, _groupsUsed);
        _shared = true;
        return _published;
    }

    private static uint[][] NewTbl24()
    {
        var chunks = new uint[Tbl24Chunks][];
        Array.Fill(chunks, ZeroChunk);
        return chunks;
    }

    // The first change after a build stops sharing the chunk arrays with the published version.
    private void Changing()
    {
        if (!_shared)
            return;
        _tbl24 = (uint[][])_tbl24.Clone();
        _tbl8 = (uint[][])_tbl8.Clone();
        Array.Clear(_own24);
        Array.Clear(_own8);
        _shared = false;
    }

    private uint Get24(int index) => _tbl24[index >> ChunkShift][index & ChunkMask];

    private void Set24(int index, uint entry)
    {
        int c = index >> ChunkShift;
        uint[] chunk = _tbl24[c];
        if (chunk[index & ChunkMask] == entry)
            return;
        if (!_own24[c])
        {
            _tbl24[c] = chunk = (uint[])chunk.Clone();
            _own24[c] = true;
        }
        chunk[index & ChunkMask] = entry;
    }

    private ReadOnlySpan<uint> GroupToRead(uint groupEntry)
    {
        int g = (int)(groupEntry & Ipv4Lpm.ValueMask);
        return _tbl8[g >> GroupsPerChunkShift].AsSpan((g & (GroupsPerChunk - 1)) << 8, Ipv4Lpm.Tbl8GroupEntries);
    }

    private Span<uint> GroupToWrite(uint groupEntry)
    {
        int g = (int)(groupEntry & Ipv4Lpm.ValueMask);
        int c = g >> GroupsPerChunkShift;
        if (!_own8[c])
        {
            _tbl8[c] = (uint[])_tbl8[c].Clone();
            _own8[c] = true;
        }
        return _tbl8[c].AsSpan((g & (GroupsPerChunk - 1)) << 8, Ipv4Lpm.Tbl8GroupEntries);
    }

    private static uint Entry(int nextHop, int depth) =>
        ((uint)(nextHop + 1)) | Ipv4Lpm.ValidFlag | ((uint)depth << Ipv4Lpm.DepthShift);

    private static bool IsGroup(uint e) => (e & Ipv4Lpm.GroupFlag) != 0;

    private static bool IsValid(uint e) => (e & Ipv4Lpm.ValidFlag) != 0;

    private static int DepthOf(uint e) => (int)(e >> Ipv4Lpm.DepthShift);

    // An entry a rule of this length overwrites: empty, or written by a rule no longer than it.
    private static bool Covers(uint e, int length) => !IsValid(e) || DepthOf(e) <= length;

    private void AddShort(uint prefix, int length, uint entry)
    {
        int start = (int)(prefix >> 8), end = start + (1 << (24 - length));
        for (int i = start; i < end; i++)
        {
            uint e = Get24(i);
            if (!IsGroup(e))
            {
                if (Covers(e, length))
                    Set24(i, entry);
                continue;
            }
            PaintGroup(e, 0, Ipv4Lpm.Tbl8GroupEntries, length, entry);
        }
    }

    private void AddLong(uint prefix, int length, uint entry)
    {
        int index24 = (int)(prefix >> 8);
        uint e = Get24(index24);
        if (!IsGroup(e))
        {
            // The /24 becomes a group that starts as 256 copies of whatever covered it (or empty).
            uint groupEntry = (uint)AllocateGroup() | Ipv4Lpm.ValidFlag | Ipv4Lpm.GroupFlag;
            GroupToWrite(groupEntry).Fill(e);
            Set24(index24, groupEntry);
            e = groupEntry;
        }
        PaintGroup(e, (int)(prefix & 0xFF), 1 << (32 - length), length, entry);
    }

    // Writes entry over the entries of [start, start + count) of a group that a rule of this length overwrites,
    // copying the group's chunk only when one of them changes.
    private void PaintGroup(uint groupEntry, int start, int count, int length, uint entry)
    {
        ReadOnlySpan<uint> read = GroupToRead(groupEntry).Slice(start, count);
        int first = 0;
        while (first < read.Length && !(Covers(read[first], length) && read[first] != entry))
            first++;
        if (first == read.Length)
            return;
        Span<uint> write = GroupToWrite(groupEntry).Slice(start, count);
        for (int j = first; j < write.Length; j++)
        {
            if (Covers(write[j], length))
                write[j] = entry;
        }
    }

    // Only entries written by the removed rule carry its depth inside its range (rules of equal length do not
    // overlap); they get the next-longest covering rule, or become empty.
    private void RemoveShort(uint prefix, int length, uint replacement)
    {
        int start = (int)(prefix >> 8), end = start + (1 << (24 - length));
        for (int i = start; i < end; i++)
        {
            uint e = Get24(i);
            if (!IsGroup(e))
            {
                if (IsValid(e) && DepthOf(e) == length)
                    Set24(i, replacement);
                continue;
            }
            ReplaceInGroup(e, 0, Ipv4Lpm.Tbl8GroupEntries, length, replacement);
        }
    }

    private void RemoveLong(uint prefix, int length, uint replacement)
    {
        int index24 = (int)(prefix >> 8);
        uint e = Get24(index24);
        Debug.Assert(IsGroup(e), "a rule longer than /24 always lives in a tbl8 group");
        ReplaceInGroup(e, (int)(prefix & 0xFF), 1 << (32 - length), length, replacement);
        // Collapse the group once no rule longer than /24 is left in it: its entries are then all equal.
        ReadOnlySpan<uint> group = GroupToRead(e);
        uint first = group[0];
        if (DepthOf(first) > 24)
            return;
        for (int j = 1; j < group.Length; j++)
        {
            if (group[j] != first)
                return;
        }
        Set24(index24, first);
        _freeGroups.Push((int)(e & Ipv4Lpm.ValueMask));
        _groupsUsed--;
    }

    private void ReplaceInGroup(uint groupEntry, int start, int count, int length, uint replacement)
    {
        ReadOnlySpan<uint> read = GroupToRead(groupEntry).Slice(start, count);
        int first = 0;
        while (first < read.Length && !(IsValid(read[first]) && DepthOf(read[first]) == length))
            first++;
        if (first == read.Length)
            return;
        Span<uint> write = GroupToWrite(groupEntry).Slice(start, count);
        for (int j = first; j < write.Length; j++)
        {
            if (IsValid(write[j]) && DepthOf(write[j]) == length)
                write[j] = replacement;
        }
    }

    private int AllocateGroup()
    {
        _groupsUsed++;
        if (_freeGroups.TryPop(out int g))
            return g;
        g = _groupsTaken++;
        if (g >= MaxGroups)
            throw new InvalidOperationException("an IPv4 LPM table holds at most 2^22 tbl8 groups (/24s with a longer prefix)");
        int c = g >> GroupsPerChunkShift;
        if (c == _tbl8.Length)
        {
            int size = Math.Max(16, _tbl8.Length * 2);
            Array.Resize(ref _tbl8, size);
            Array.Resize(ref _own8, size);
        }
        if (_tbl8[c] is null)
        {
            _tbl8[c] = new uint[PersistentIpv4Lpm.ChunkEntries];
            _own8[c] = true;
        }
        return g;
    }

    [DoesNotReturn]
    private static void ThrowLength() => throw new ArgumentOutOfRangeException("length", "an IPv4 prefix length is 0 to 32");
}
