using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>Keeps an IPv4 rule set (prefix, length, next hop) and turns it into immutable <see cref="Ipv4Lpm"/> snapshots.</summary>
/// <remarks>
/// <para>
/// Changes are applied incrementally with DPDK's rte_lpm algorithms (prefix expansion on add; on delete, the entries
/// the rule wrote are rewritten with the next-longest covering rule), never to a table a reader can see: the first
/// change after <see cref="Build"/> takes a private working table, later changes go to it, and the next
/// <see cref="Build"/> publishes it. A published table is never written again while a reader may hold it.
/// </para>
/// <para>
/// Without <see cref="ReaderEpochs"/> the working table is a copy of the published one (64 MiB of tbl24 plus the tbl8
/// groups; perf/Benchmarks/Routing/Ipv4LpmBuildBenchmarks.cs times it), so batch many changes between builds.
/// </para>
/// <para>
/// With <see cref="ReaderEpochs"/> the builder keeps two tables and alternates (a left-right scheme): the working table
/// of a round is the table published before the current one, once every registered reader has passed a quiescent
/// point (or gone offline) since the current one was published, brought up to date by copying only the 16 KiB tbl24
/// chunks and the tbl8 groups that the last round wrote. A round costs about what its changes touch, twice, not a
/// 64 MiB copy. The grace period is awaited at the first change of a round, so the caller must have published the
/// last <see cref="Build"/>'s table (to every reader) before it makes the next change. Readers that do not pass a
/// quiescent point within the grace timeout make the round copy the published table instead, as without readers.
/// </para>
/// <para>Not thread-safe: one control thread owns a builder. Publishing the snapshot to readers is the caller's job (one <c>Volatile.Write</c>).</para>
/// </remarks>
public sealed class Ipv4LpmBuilder
{
    private const int InitialTbl8Groups = 64;
    // 2^22 groups of 256 entries is the largest that fits one .NET array.
    private const int MaxTbl8Groups = 1 << 22;

    // _rules[length]: masked prefix -> next hop.
    private readonly Dictionary<uint, int>[] _rules = new Dictionary<uint, int>[33];
    private readonly Stack<int> _freeGroups = new();
    private readonly bool _hugePages;
    private readonly ReaderEpochs? _readers;
    private readonly TimeSpan _graceTimeout;
    // What the working table's round wrote, and (two tables only) what the spare table lacks of the published one.
    private LpmWrites _written = new();
    private LpmWrites _spareLacks = new();
    // Group indexes 0.._groupsTaken-1 have been handed out: each is in use or in _freeGroups.
    private int _groupsTaken;
    private Ipv4Lpm? _published;
    private Ipv4Lpm? _working;
    // Two tables only: the table published before _published, which readers may still be leaving.
    private Ipv4Lpm? _spare;
    private int _count;

    /// <summary>Creates an empty builder.</summary>
    /// <param name="useHugePages">Advise Linux to back tbl24 with transparent huge pages (see <see cref="HugePages"/>).</param>
    /// <param name="readers">When set, the builder alternates between two tables and reuses one only after these readers have left it (see remarks).</param>
    /// <param name="graceTimeout">How long a round waits for the readers before it copies the published table instead; 50 ms when not given, longer than an idle worker's poll.</param>
    public Ipv4LpmBuilder(bool useHugePages = true, ReaderEpochs? readers = null, TimeSpan? graceTimeout = null)
    {
        _hugePages = useHugePages;
        _readers = readers;
        _graceTimeout = graceTimeout ?? TimeSpan.FromMilliseconds(50);
        for (int i = 0; i < _rules.Length; i++)
            _rules[i] = new Dictionary<uint, int>();
    }

    /// <summary>Rounds whose working table was a copy of the published table (the first round, every round without readers, and rounds whose readers were late).</summary>
    public int Copies { get; private set; }

    /// <summary>Rounds whose working table was the spare table brought up to date (two tables only).</summary>
    public int Reuses { get; private set; }

    /// <summary>The number of rules.</summary>
    public int Count => _count;

    /// <summary>The network mask of a prefix length in host order (/0 is 0).</summary>
    public static uint Mask(int length) => length == 0 ? 0u : uint.MaxValue << (32 - length);

    /// <summary>Adds a rule, or changes the next hop of an existing one.</summary>
    /// <returns>True when the rule is new, false when it replaced an existing rule's next hop.</returns>
    public bool Add(Ipv4Prefix prefix, int nextHop) => Add(prefix.Address.Value, prefix.Length, nextHop);

    /// <summary>Removes a rule; returns false when there was no such rule.</summary>
    public bool Remove(Ipv4Prefix prefix) => Remove(prefix.Address.Value, prefix.Length);

    /// <summary>Adds a rule, or changes the next hop of an existing one; host bits of <paramref name="prefix"/> are ignored.</summary>
    /// <returns>True when the rule is new, false when it replaced an existing rule's next hop.</returns>
    public bool Add(uint prefix, int length, int nextHop)
    {
        if ((uint)length > 32)
            ThrowLength();
        if ((uint)nextHop > Ipv4Lpm.MaxNextHop)
            ThrowNextHop();
        prefix &= Mask(length);
        Dictionary<uint, int> rules = _rules[length];
        bool added = !rules.TryGetValue(prefix, out int old);
        if (!added && old == nextHop)
            return false;
        rules[prefix] = nextHop;
        if (added)
            _count++;
        Ipv4Lpm t = Writable();
        t._ruleCount = _count;
        uint entry = Entry(nextHop, length);
        if (length <= 24)
            AddShort(t, prefix, length, entry, _written);
        else
            AddLong(t, prefix, length, entry);
        return added;
    }

    /// <summary>Removes a rule; host bits of <paramref name="prefix"/> are ignored.</summary>
    /// <returns>False when there was no such rule.</returns>
    public bool Remove(uint prefix, int length)
    {
        if ((uint)length > 32)
            ThrowLength();
        prefix &= Mask(length);
        if (!_rules[length].Remove(prefix))
            return false;
        _count--;
        Ipv4Lpm t = Writable();
        t._ruleCount = _count;
        uint replacement = 0;
        for (int d = length - 1; d >= 0; d--)
        {
            if (_rules[d].TryGetValue(prefix & Mask(d), out int nh))
            {
                replacement = Entry(nh, d);
                break;
            }
        }
        if (length <= 24)
            RemoveShort(t, prefix, length, replacement, _written);
        else
            RemoveLong(t, prefix, length, replacement);
        return true;
    }

    /// <summary>Finds the next hop of an exact rule.</summary>
    public bool TryGetRule(uint prefix, int length, out int nextHop)
    {
        if ((uint)length > 32)
            ThrowLength();
        return _rules[length].TryGetValue(prefix & Mask(length), out nextHop);
    }

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        foreach (Dictionary<uint, int> rules in _rules)
            rules.Clear();
        _count = 0;
        ResetGroups();
        _working = null;
        _published = null;
        _spare = null;
    }

    /// <summary>The rules, ordered by length then prefix.</summary>
    public IEnumerable<(uint Prefix, int Length, int NextHop)> Rules()
    {
        for (int length = 0; length <= 32; length++)
        {
            foreach (KeyValuePair<uint, int> rule in _rules[length].OrderBy(r => r.Key))
                yield return (rule.Key, length, rule.Value);
        }
    }

    /// <summary>Returns a snapshot of the current rules; the builder never writes to it while a reader may hold it.</summary>
    /// <remarks>Building twice with no change in between returns the same instance.</remarks>
    public Ipv4Lpm Build()
    {
        if (_working is null)
            return _published ??= CreateEmpty();
        if (_readers is not null && _published is not null)
        {
            // The table readers leave now is the next round's working table; it lacks what this round wrote.
            _spare = _published;
            (_spareLacks, _written) = (_written, _spareLacks);
        }
        _written.Clear();
        _published = _working;
        _working = null;
        return _published;
    }

    private Ipv4Lpm Writable()
    {
        if (_working is not null)
            return _working;
        if (_published is null)
            return _working = CreateEmpty();
        if (_spare is not null && ReadersLeft())
        {
            CatchUp(_spare, _published, _spareLacks);
            _working = _spare;
            Reuses++;
        }
        else
        {
            _working = _published.Clone(_hugePages);
            Copies++;
        }
        _spare = null;
        _spareLacks.Clear();
        return _working;
    }

    // The spare table was published until the last Build, whose table the caller has published since: once every
    // reader has passed a quiescent point after now, none can still be inside the spare.
    private bool ReadersLeft()
    {
        ReaderEpochs.Capture capture = _readers!.Take();
        if (_readers.HavePassed(capture))
            return true;
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(_graceTimeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        var spin = new SpinWait();
        while (!_readers.HavePassed(capture))
        {
            if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline)
                return false;
            spin.SpinOnce();
        }
        return true;
    }

    // Copies into the spare what the published table's round wrote: those tbl24 chunks and tbl8 groups.
    private static void CatchUp(Ipv4Lpm spare, Ipv4Lpm published, LpmWrites lacks)
    {
        if (spare._tbl8.Length < published._tbl8.Length)
        {
            // The round grew tbl8: the spare takes a whole copy of the larger one.
            uint[] grown = GC.AllocateUninitializedArray<uint>(published._tbl8.Length, pinned: true);
            published._tbl8.AsSpan().CopyTo(grown);
            spare._tbl8 = grown;
        }
        else
        {
            foreach (int g in lacks.Groups)
                published._tbl8.AsSpan(g * Ipv4Lpm.Tbl8GroupEntries, Ipv4Lpm.Tbl8GroupEntries).CopyTo(spare._tbl8.AsSpan(g * Ipv4Lpm.Tbl8GroupEntries));
        }
        foreach (int c in lacks.Tbl24Chunks)
            published._tbl24.AsSpan(c << LpmWrites.Tbl24ChunkShift, LpmWrites.Tbl24ChunkEntries).CopyTo(spare._tbl24.AsSpan(c << LpmWrites.Tbl24ChunkShift));
        spare._tbl8GroupsUsed = published._tbl8GroupsUsed;
        spare._ruleCount = published._ruleCount;
    }

    private void ResetGroups()
    {
        _freeGroups.Clear();
        _groupsTaken = 0;
        _written.Clear();
        _spareLacks.Clear();
    }

    private Ipv4Lpm CreateEmpty()
    {
        uint[] tbl24 = GC.AllocateUninitializedArray<uint>(Ipv4Lpm.Tbl24Entries, pinned: true);
        if (_hugePages)
            HugePages.Advise(tbl24);
        tbl24.AsSpan().Clear();
        ResetGroups();
        return new Ipv4Lpm(tbl24, GC.AllocateArray<uint>(InitialTbl8Groups * Ipv4Lpm.Tbl8GroupEntries, pinned: true));
    }

    private static uint Entry(int nextHop, int depth) =>
        ((uint)(nextHop + 1)) | Ipv4Lpm.ValidFlag | ((uint)depth << Ipv4Lpm.DepthShift);

    private static uint GroupEntry(int group) => (uint)group | Ipv4Lpm.ValidFlag | Ipv4Lpm.GroupFlag;

    private static bool IsGroup(uint e) => (e & Ipv4Lpm.GroupFlag) != 0;

    private static bool IsValid(uint e) => (e & Ipv4Lpm.ValidFlag) != 0;

    private static int DepthOf(uint e) => (int)(e >> Ipv4Lpm.DepthShift);

    private static Span<uint> Group(Ipv4Lpm t, uint groupEntry) =>
        t._tbl8.AsSpan((int)(groupEntry & Ipv4Lpm.ValueMask) * Ipv4Lpm.Tbl8GroupEntries, Ipv4Lpm.Tbl8GroupEntries);

    // A rule of length <= 24 covers 2^(24 - length) whole tbl24 entries; it overwrites entries written by rules no
    // longer than itself and, inside tbl8 groups, leaves the longer rules' entries alone.
    private static void AddShort(Ipv4Lpm t, uint prefix, int length, uint entry, LpmWrites written)
    {
        int first = (int)(prefix >> 8);
        Span<uint> range = t._tbl24.AsSpan(first, 1 << (24 - length));
        written.Tbl24(first, range.Length);
        for (int i = 0; i < range.Length; i++)
        {
            uint e = range[i];
            if (!IsGroup(e))
            {
                if (!IsValid(e) || DepthOf(e) <= length)
                    range[i] = entry;
                continue;
            }
            written.Group((int)(e & Ipv4Lpm.ValueMask));
            Span<uint> group = Group(t, e);
            for (int j = 0; j < group.Length; j++)
            {
                if (!IsValid(group[j]) || DepthOf(group[j]) <= length)
                    group[j] = entry;
            }
        }
    }

    private void AddLong(Ipv4Lpm t, uint prefix, int length, uint entry)
    {
        int index24 = (int)(prefix >> 8);
        uint e = t._tbl24[index24];
        if (!IsGroup(e))
        {
            // The /24 becomes a group that starts as 256 copies of whatever covered it (or empty).
            int g = AllocateGroup(t);
            Group(t, GroupEntry(g)).Fill(e);
            e = GroupEntry(g);
            t._tbl24[index24] = e;
            _written.Tbl24(index24, 1);
        }
        _written.Group((int)(e & Ipv4Lpm.ValueMask));
        Span<uint> range = Group(t, e).Slice((int)(prefix & 0xFF), 1 << (32 - length));
        for (int j = 0; j < range.Length; j++)
        {
            if (!IsValid(range[j]) || DepthOf(range[j]) <= length)
                range[j] = entry;
        }
    }

    // Only entries written by the removed rule carry its depth inside its range, since rules of equal length do not
    // overlap; they get the next-longest covering rule, or become empty.
    private static void RemoveShort(Ipv4Lpm t, uint prefix, int length, uint replacement, LpmWrites written)
    {
        int first = (int)(prefix >> 8);
        Span<uint> range = t._tbl24.AsSpan(first, 1 << (24 - length));
        written.Tbl24(first, range.Length);
        for (int i = 0; i < range.Length; i++)
        {
            uint e = range[i];
            if (!IsGroup(e))
            {
                if (IsValid(e) && DepthOf(e) == length)
                    range[i] = replacement;
                continue;
            }
            written.Group((int)(e & Ipv4Lpm.ValueMask));
            Span<uint> group = Group(t, e);
            for (int j = 0; j < group.Length; j++)
            {
                if (IsValid(group[j]) && DepthOf(group[j]) == length)
                    group[j] = replacement;
            }
        }
    }

    private void RemoveLong(Ipv4Lpm t, uint prefix, int length, uint replacement)
    {
        int index24 = (int)(prefix >> 8);
        uint e = t._tbl24[index24];
        Debug.Assert(IsGroup(e), "a rule longer than /24 always lives in a tbl8 group");
        _written.Group((int)(e & Ipv4Lpm.ValueMask));
        Span<uint> group = Group(t, e);
        Span<uint> range = group.Slice((int)(prefix & 0xFF), 1 << (32 - length));
        for (int j = 0; j < range.Length; j++)
        {
            if (IsValid(range[j]) && DepthOf(range[j]) == length)
                range[j] = replacement;
        }
        // Collapse the group when no rule longer than /24 is left in it: all entries are then equal (empty, or the
        // same covering rule of length <= 24), like DPDK's tbl8_recycle_check. No reader sees the working table, so
        // the group is free at once.
        uint first = group[0];
        if (DepthOf(first) > 24)
            return;
        for (int j = 1; j < group.Length; j++)
        {
            if (group[j] != first)
                return;
        }
        t._tbl24[index24] = first;
        _written.Tbl24(index24, 1);
        _freeGroups.Push((int)(e & Ipv4Lpm.ValueMask));
        t._tbl8GroupsUsed--;
    }

    private int AllocateGroup(Ipv4Lpm t)
    {
        if (!_freeGroups.TryPop(out int g))
        {
            // With no free group, the next untaken index; groups stay dense.
            g = _groupsTaken;
            if ((long)(g + 1) * Ipv4Lpm.Tbl8GroupEntries > t._tbl8.Length)
            {
                Debug.Assert(!ReferenceEquals(t, _published) && !ReferenceEquals(t, _spare), "only the working table grows");
                if (g >= MaxTbl8Groups)
                    throw new InvalidOperationException("an IPv4 LPM table holds at most 2^22 tbl8 groups (/24s with a longer prefix)");
                int groups = Math.Min(MaxTbl8Groups, Math.Max(InitialTbl8Groups, g * 2));
                uint[] grown = GC.AllocateUninitializedArray<uint>(groups * Ipv4Lpm.Tbl8GroupEntries, pinned: true);
                if (_hugePages)
                    HugePages.Advise(grown);
                t._tbl8.AsSpan().CopyTo(grown);
                t._tbl8 = grown;
            }
            _groupsTaken++;
        }
        t._tbl8GroupsUsed++;
        return g;
    }

    [DoesNotReturn]
    private static void ThrowLength() => throw new ArgumentOutOfRangeException("length", "an IPv4 prefix length is 0 to 32");

    [DoesNotReturn]
    private static void ThrowNextHop() => throw new ArgumentOutOfRangeException("nextHop", $"a next hop is 0 to {Ipv4Lpm.MaxNextHop}");
}
