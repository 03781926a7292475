using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>Keeps an IPv4 rule set (prefix, length, next hop) and turns it into immutable <see cref="Ipv4Lpm"/> snapshots.</summary>
/// <remarks>
/// <para>
/// Changes are applied incrementally with DPDK's rte_lpm algorithms (prefix expansion on add; on delete, the entries
/// the rule wrote are rewritten with the next-longest covering rule). By default never to a table a reader can see:
/// the first change after <see cref="Build"/> copies the published snapshot (64 MiB of tbl24 plus the tbl8 groups;
/// perf/Benchmarks/Routing/Ipv4LpmBuildBenchmarks.cs times it) and
/// later changes go to that private copy until the next <see cref="Build"/> publishes it. Because such a published
/// table is never written again, tbl8 groups can be freed and reused at once. Batch many changes between builds.
/// </para>
/// <para>
/// Built with <see cref="ReaderEpochs"/>, the builder instead updates the published table in place, as rte_lpm does
/// with one writer: every store is one aligned 32-bit entry, so a reader sees each entry old or new, never torn; a new
/// tbl8 group is filled (with the entry it replaces, then the new rule) before the tbl24 entry that points at it is
/// stored with release order; collapsing a group first stores the equal tbl24 entry, and the group is reused only after
/// every registered reader passed a quiescent point (RCU QSBR) since, so a reader still inside it reads what it held.
/// An address whose longest match did not change reads the same answer throughout. Only when tbl8 is full and no
/// group is free does a change copy the table (with twice the groups) as above; the next <see cref="Build"/>
/// publishes the copy and in-place updates resume on it. Changes are visible to readers as they are made, not at
/// <see cref="Build"/>, which in this mode returns the table that holds them and retires freed groups.
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
    // In place only: groups unlinked since the last capture, and groups waiting for their capture's readers.
    private readonly List<int> _unlinked = [];
    private readonly Queue<(ReaderEpochs.Capture Capture, int[] Groups)> _retired = new();
    // Group indexes 0.._groupsTaken-1 have been handed out: each is in use, retired, or in _freeGroups.
    private int _groupsTaken;
    private Ipv4Lpm? _published;
    private Ipv4Lpm? _working;
    private int _count;

    /// <summary>Creates an empty builder.</summary>
    /// <param name="useHugePages">Advise Linux to back tbl24 with transparent huge pages (see <see cref="HugePages"/>).</param>
    /// <param name="inPlaceReaders">When set, changes after the first <see cref="Build"/> go into the published table in place, and freed tbl8 groups wait for these readers (see remarks).</param>
    public Ipv4LpmBuilder(bool useHugePages = true, ReaderEpochs? inPlaceReaders = null)
    {
        _hugePages = useHugePages;
        _readers = inPlaceReaders;
        for (int i = 0; i < _rules.Length; i++)
            _rules[i] = new Dictionary<uint, int>();
    }

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
        if (length > 24 && ReferenceEquals(t, _published) && !IsGroup(t._tbl24[(int)(prefix >> 8)]) && !HasFreeGroup(t))
            t = CopyForGrowth();
        t._ruleCount = _count;
        uint entry = Entry(nextHop, length);
        if (length <= 24)
            AddShort(t, prefix, length, entry);
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
            RemoveShort(t, prefix, length, replacement);
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

    /// <summary>Returns a snapshot of the current rules; the builder never writes to it afterwards.</summary>
    /// <remarks>Building twice with no change in between returns the same instance.</remarks>
    public Ipv4Lpm Build()
    {
        Ipv4Lpm t = _working ?? _published ?? CreateEmpty();
        _published = t;
        _working = null;
        Reclaim();
        return t;
    }

    /// <summary>The number of freed tbl8 groups still waiting for readers to pass a quiescent point (in-place mode).</summary>
    public int RetiredGroupCount => _unlinked.Count + _retired.Sum(r => r.Groups.Length);

    private Ipv4Lpm Writable()
    {
        if (_working is not null)
            return _working;
        if (_published is null)
            return _working = CreateEmpty();
        if (_readers is not null)
            return _published;
        return _working = _published.Clone(_hugePages);
    }

    private bool HasFreeGroup(Ipv4Lpm t)
    {
        if (_freeGroups.Count > 0)
            return true;
        if ((long)(_groupsTaken + 1) * Ipv4Lpm.Tbl8GroupEntries <= t._tbl8.Length)
            return true;
        Reclaim();
        return _freeGroups.Count > 0;
    }

    // tbl8 cannot grow under readers (a reader may hold the old array while tbl24 names a group past its end), so the
    // change goes to a private copy whose AllocateGroup may grow it. No reader sees the copy, so every group waiting for
    // readers of the published table is free in it.
    private Ipv4Lpm CopyForGrowth()
    {
        _working = _published!.Clone(_hugePages);
        foreach (int g in _unlinked)
            _freeGroups.Push(g);
        _unlinked.Clear();
        while (_retired.TryDequeue(out (ReaderEpochs.Capture _, int[] Groups) retired))
        {
            foreach (int g in retired.Groups)
                _freeGroups.Push(g);
        }
        return _working;
    }

    // Seals the groups unlinked since the last call with the readers' counters now, then frees, oldest first, those
    // whose readers have all passed a quiescent point since.
    private void Reclaim()
    {
        if (_readers is null)
            return;
        if (_unlinked.Count > 0)
        {
            _retired.Enqueue((_readers.Take(), [.. _unlinked]));
            _unlinked.Clear();
        }
        while (_retired.TryPeek(out (ReaderEpochs.Capture Capture, int[] Groups) oldest) && _readers.HavePassed(oldest.Capture))
        {
            _retired.Dequeue();
            foreach (int g in oldest.Groups)
                _freeGroups.Push(g);
        }
    }

    private void ResetGroups()
    {
        _freeGroups.Clear();
        _unlinked.Clear();
        _retired.Clear();
        _groupsTaken = 0;
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
    private static void AddShort(Ipv4Lpm t, uint prefix, int length, uint entry)
    {
        Span<uint> range = t._tbl24.AsSpan((int)(prefix >> 8), 1 << (24 - length));
        for (int i = 0; i < range.Length; i++)
        {
            uint e = range[i];
            if (!IsGroup(e))
            {
                if (!IsValid(e) || DepthOf(e) <= length)
                    range[i] = entry;
                continue;
            }
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
        bool newGroup = !IsGroup(e);
        if (newGroup)
        {
            // The /24 becomes a group that starts as 256 copies of whatever covered it (or empty).
            int g = AllocateGroup(t);
            Group(t, GroupEntry(g)).Fill(e);
            e = GroupEntry(g);
        }
        Span<uint> range = Group(t, e).Slice((int)(prefix & 0xFF), 1 << (32 - length));
        for (int j = 0; j < range.Length; j++)
        {
            if (!IsValid(range[j]) || DepthOf(range[j]) <= length)
                range[j] = entry;
        }
        // Release order: a reader that sees the group entry sees the whole group filled.
        if (newGroup)
            Volatile.Write(ref t._tbl24[index24], e);
    }

    // Only entries written by the removed rule carry its depth inside its range, since rules of equal length do not
    // overlap; they get the next-longest covering rule, or become empty.
    private static void RemoveShort(Ipv4Lpm t, uint prefix, int length, uint replacement)
    {
        Span<uint> range = t._tbl24.AsSpan((int)(prefix >> 8), 1 << (24 - length));
        for (int i = 0; i < range.Length; i++)
        {
            uint e = range[i];
            if (!IsGroup(e))
            {
                if (IsValid(e) && DepthOf(e) == length)
                    range[i] = replacement;
                continue;
            }
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
        Span<uint> group = Group(t, e);
        Span<uint> range = group.Slice((int)(prefix & 0xFF), 1 << (32 - length));
        for (int j = 0; j < range.Length; j++)
        {
            if (IsValid(range[j]) && DepthOf(range[j]) == length)
                range[j] = replacement;
        }
        // Collapse the group when no rule longer than /24 is left in it: all entries are then equal (empty, or the
        // same covering rule of length <= 24), like DPDK's tbl8_recycle_check.
        uint first = group[0];
        if (DepthOf(first) > 24)
            return;
        for (int j = 1; j < group.Length; j++)
        {
            if (group[j] != first)
                return;
        }
        t._tbl24[index24] = first;
        // A reader of a published table may still be inside the group: it waits for a quiescent point.
        if (ReferenceEquals(t, _published))
            _unlinked.Add((int)(e & Ipv4Lpm.ValueMask));
        else
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
                Debug.Assert(!ReferenceEquals(t, _published), "a published table's tbl8 never grows");
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
