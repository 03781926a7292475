using System.Diagnostics.CodeAnalysis;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>Keeps an IPv6 rule set (prefix, next hop) and builds immutable <see cref="Ipv6Lpm"/> snapshots from it.</summary>
/// <remarks>
/// Every <see cref="Build"/> rebuilds the trie from the rules, shortest prefixes first, so a longer prefix simply
/// overwrites the entries it shares with a shorter one and deletion needs no bookkeeping. That costs time proportional
/// to the rule count per build, which suits IPv6 tables of thousands of routes; the IPv4 builder updates incrementally
/// because a DIR-24-8 table is 64 MiB. Not thread-safe: one control thread owns a builder.
/// </remarks>
public sealed class Ipv6LpmBuilder
{
    private readonly Dictionary<Ipv6Address, int>[] _rules = new Dictionary<Ipv6Address, int>[129];
    private readonly bool _hugePages;
    private Ipv6Lpm? _published;
    private int _count;

    /// <summary>Creates an empty builder.</summary>
    /// <param name="useHugePages">
    /// Advise Linux to back the trie's nodes with transparent huge pages (see <see cref="HugePages"/>): every level of
    /// a walk lands on a random node, so on 4 KiB pages a full table's walk misses the TLB at nearly every level.
    /// </param>
    public Ipv6LpmBuilder(bool useHugePages = false)
    {
        _hugePages = useHugePages;
        for (int i = 0; i < _rules.Length; i++)
            _rules[i] = new Dictionary<Ipv6Address, int>();
    }

    /// <summary>The number of rules.</summary>
    public int Count => _count;

    /// <summary>Adds a rule, or changes the next hop of an existing one.</summary>
    /// <returns>True when the rule is new, false when it replaced an existing rule's next hop.</returns>
    public bool Add(Ipv6Prefix prefix, int nextHop)
    {
        if ((uint)nextHop > Ipv6Lpm.MaxNextHop)
            ThrowNextHop();
        Dictionary<Ipv6Address, int> rules = _rules[prefix.Length];
        bool added = !rules.TryGetValue(prefix.Address, out int old);
        if (!added && old == nextHop)
            return false;
        rules[prefix.Address] = nextHop;
        if (added)
            _count++;
        _published = null;
        return added;
    }

    /// <summary>Removes a rule; returns false when there was no such rule.</summary>
    public bool Remove(Ipv6Prefix prefix)
    {
        if (!_rules[prefix.Length].Remove(prefix.Address))
            return false;
        _count--;
        _published = null;
        return true;
    }

    /// <summary>Finds the next hop of an exact rule.</summary>
    public bool TryGetRule(Ipv6Prefix prefix, out int nextHop) => _rules[prefix.Length].TryGetValue(prefix.Address, out nextHop);

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        foreach (Dictionary<Ipv6Address, int> rules in _rules)
            rules.Clear();
        _count = 0;
        _published = null;
    }

    /// <summary>Returns a snapshot of the current rules; building twice with no change in between returns the same instance.</summary>
    public Ipv6Lpm Build()
    {
        if (_published is not null)
            return _published;
        uint[] root = new uint[Ipv6Lpm.RootEntries];
        var nodes = new List<uint[]>();
        for (int length = 0; length <= 128; length++)
        {
            foreach (KeyValuePair<Ipv6Address, int> rule in _rules[length])
                Paint(root, nodes, rule.Key, length, (uint)(rule.Value + 1));
        }
        uint[] flat;
        if (_hugePages)
        {
            // Advised before the first write, so the kernel can fault it in as huge pages from the start.
            flat = GC.AllocateUninitializedArray<uint>(nodes.Count * Ipv6Lpm.NodeEntries, pinned: true);
            HugePages.Advise(flat);
        }
        else
        {
            flat = GC.AllocateUninitializedArray<uint>(nodes.Count * Ipv6Lpm.NodeEntries);
        }
        for (int i = 0; i < nodes.Count; i++)
            nodes[i].CopyTo(flat, i * Ipv6Lpm.NodeEntries);
        _published = new Ipv6Lpm(root, flat, _count);
        return _published;
    }

    // Rules arrive shortest first, so the range a rule covers never holds a child yet: children only appear under
    // entries that a longer (later) rule splits, and rules of equal length do not overlap.
    private static void Paint(uint[] root, List<uint[]> nodes, Ipv6Address prefix, int length, uint leaf)
    {
        if (length <= 16)
        {
            root.AsSpan((int)(prefix.High >> 48), 1 << (16 - length)).Fill(leaf);
            return;
        }
        uint[] node = root;
        int index = (int)(prefix.High >> 48);
        int end = 16;   // bits of the address consumed down to and including `node`
        while (true)
        {
            uint e = node[index];
            uint[] child;
            if ((e & Ipv6Lpm.ChildFlag) != 0)
            {
                child = nodes[(int)(e & Ipv6Lpm.ValueMask)];
            }
            else
            {
                // A new node starts as 256 copies of the shorter prefix that covered this entry (or empty).
                child = new uint[Ipv6Lpm.NodeEntries];
                child.AsSpan().Fill(e);
                node[index] = (uint)nodes.Count | Ipv6Lpm.ChildFlag;
                nodes.Add(child);
            }
            int octet = (int)(end < 64 ? (prefix.High >> (56 - end)) & 0xFF : (prefix.Low >> (120 - end)) & 0xFF);
            end += 8;
            if (length <= end)
            {
                child.AsSpan(octet, 1 << (end - length)).Fill(leaf);
                return;
            }
            node = child;
            index = octet;
        }
    }

    [DoesNotReturn]
    private static void ThrowNextHop() => throw new ArgumentOutOfRangeException("nextHop", $"a next hop is 0 to {Ipv6Lpm.MaxNextHop}");
}
