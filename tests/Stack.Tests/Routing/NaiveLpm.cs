namespace XdpStack.Stack.Tests.Routing;

/// <summary>The obviously correct reference: a rule dictionary scanned linearly for the longest match.</summary>
internal sealed class NaiveLpm(int width)
{
    private readonly Dictionary<(UInt128 Prefix, int Length), int> _rules = [];

    public int Count => _rules.Count;

    public IReadOnlyList<(UInt128 Prefix, int Length)> Keys => _rules.Keys.ToList();

    public UInt128 Mask(int length) => length == 0 ? UInt128.Zero : (UInt128.MaxValue << (128 - length)) >> (128 - width);

    public void Add(UInt128 prefix, int length, int nextHop) => _rules[(prefix & Mask(length), length)] = nextHop;

    public bool Remove(UInt128 prefix, int length) => _rules.Remove((prefix & Mask(length), length));

    public int Lookup(UInt128 address)
    {
        int best = -1, bestLength = -1;
        foreach (KeyValuePair<(UInt128 Prefix, int Length), int> rule in _rules)
        {
            if (rule.Key.Length > bestLength && (address & Mask(rule.Key.Length)) == rule.Key.Prefix)
            {
                best = rule.Value;
                bestLength = rule.Key.Length;
            }
        }
        return best;
    }

    public NaiveLpm Clone()
    {
        var copy = new NaiveLpm(width);
        foreach (KeyValuePair<(UInt128 Prefix, int Length), int> rule in _rules)
            copy._rules.Add(rule.Key, rule.Value);
        return copy;
    }

    /// <summary>Addresses at and around every rule's edges, where off-by-one errors in expansion show.</summary>
    public IEnumerable<UInt128> EdgeAddresses()
    {
        UInt128 all = width == 128 ? UInt128.MaxValue : (UInt128.One << width) - 1;
        foreach ((UInt128 prefix, int length) in _rules.Keys)
        {
            UInt128 last = prefix | (all & ~Mask(length));
            yield return prefix;
            yield return last;
            yield return (prefix - 1) & all;
            yield return (last + 1) & all;
            yield return prefix + ((last - prefix) / 2);
        }
    }
}
