using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>An immutable IPv6 longest-prefix-match table: a multibit trie with a 16-bit root and 8-bit strides, built by <see cref="Ipv6LpmBuilder"/>.</summary>
/// <remarks>
/// <para>
/// The root has 65,536 entries indexed by the first 16 bits (VPP's mtrie also embeds a 16-bit root ply). Each deeper
/// node has 256 entries for the next 8 bits, so a /48 takes at most 5 reads and a /64 at most 7. Prefixes are expanded
/// into every entry they cover, so the walk stops at the first leaf and never backtracks. Entry bits: 0..23 value
/// (next hop plus one, so an empty entry reads as -1; or a node index), 31 child (the value is a node).
/// </para>
/// <para>
/// Lifetime and threading: GC-owned arrays that nothing writes after construction; any number of threads may read a
/// snapshot with no lock, and the GC frees it once the last reader drops it.
/// </para>
/// </remarks>
public sealed class Ipv6Lpm
{
    /// <summary>The largest next-hop index a rule can carry.</summary>
    public const int MaxNextHop = 0xFF_FFFE;

    internal const int RootEntries = 1 << 16;
    internal const int NodeEntries = 256;
    internal const uint ValueMask = 0x00FF_FFFF;
    internal const uint ChildFlag = 1u << 31;

    // Internal so the fast path's interleaved lookups walk them directly.
    internal readonly uint[] _root;
    internal readonly uint[] _nodes;
    private readonly int _ruleCount;

    internal Ipv6Lpm(uint[] root, uint[] nodes, int ruleCount)
    {
        _root = root;
        _nodes = nodes;
        _ruleCount = ruleCount;
    }

    /// <summary>The number of rules the table was built from.</summary>
    public int RuleCount => _ruleCount;

    /// <summary>The number of 256-entry nodes below the root.</summary>
    public int NodeCount => _nodes.Length / NodeEntries;

    /// <summary>Bytes of table memory this snapshot holds.</summary>
    public long MemoryBytes => ((long)_root.Length + _nodes.Length) * sizeof(uint);

    /// <summary>Returns the next hop of the longest prefix that contains <paramref name="address"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(Ipv6Address address) => Lookup(address.High, address.Low);

    /// <summary>Returns the next hop of the longest prefix that contains the address with halves <paramref name="high"/> and <paramref name="low"/>, or -1.</summary>
    public int Lookup(ulong high, ulong low)
    {
        uint e = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_root), (nint)(high >> 48));
        if ((e & ChildFlag) != 0)
        {
            ref uint nodes = ref MemoryMarshal.GetArrayDataReference(_nodes);
            ulong word = high;
            int shift = 40;
            do
            {
                e = Unsafe.Add(ref nodes, ((nint)(e & ValueMask) << 8) | (nint)((word >> shift) & 0xFF));
                shift -= 8;
                if (shift < 0)
                {
                    word = low;
                    shift = 56;
                }
            }
            while ((e & ChildFlag) != 0);
        }
        return (int)(e & ValueMask) - 1;
    }

    /// <summary>Looks up every address of <paramref name="addresses"/> into the same index of <paramref name="results"/>.</summary>
    public void Lookup(ReadOnlySpan<Ipv6Address> addresses, Span<int> results)
    {
        if (results.Length < addresses.Length)
            throw new ArgumentException("results must be at least as long as addresses", nameof(results));
        for (int i = 0; i < addresses.Length; i++)
            results[i] = Lookup(addresses[i].High, addresses[i].Low);
    }
}
