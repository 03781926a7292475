using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>An immutable IPv4 longest-prefix-match table in DIR-24-8 layout, stored in 16 KiB chunks that later versions share: the route table's LPM (<see cref="PersistentIpv4LpmBuilder"/>).</summary>
/// <remarks>
/// <para>
/// Same entries as <see cref="Ipv4Lpm"/> (tbl24 of 2^24 entries, tbl8 groups of 256, the same bit layout), but tbl24 is
/// 4,096 chunks of 4,096 entries and tbl8 is chunks of 16 groups. A new version copies only the chunks its changes
/// touched and the chunk arrays (32 KiB), so publishing a route change costs what the change touched, not a 64 MiB
/// copy, and no version is ever written once published: readers need no quiescent points and old versions stay
/// right for as long as anyone holds them. Chunks are below the large-object threshold, so they are ordinary
/// short-lived garbage when replaced. Untouched chunks of an empty table all share one zero chunk.
/// </para>
/// <para>
/// A lookup reads one more array than <see cref="Ipv4Lpm"/> (the chunk), which the full stack's per-packet route
/// lookups can afford; the fast paths keep the flat <see cref="Ipv4Lpm"/>, which they update in place.
/// </para>
/// </remarks>
public sealed class PersistentIpv4Lpm
{
    internal const int ChunkShift = 12;
    internal const int ChunkEntries = 1 << ChunkShift;
    internal const int ChunkMask = ChunkEntries - 1;
    internal const int Tbl24Chunks = Ipv4Lpm.Tbl24Entries / ChunkEntries;
    internal const int GroupsPerChunkShift = ChunkShift - 8;
    internal const int GroupsPerChunk = 1 << GroupsPerChunkShift;

    private readonly uint[][] _tbl24;
    private readonly uint[][] _tbl8;

    internal PersistentIpv4Lpm(uint[][] tbl24, uint[][] tbl8, int ruleCount, int groupsUsed)
    {
        _tbl24 = tbl24;
        _tbl8 = tbl8;
        RuleCount = ruleCount;
        Tbl8GroupCount = groupsUsed;
    }

    /// <summary>The number of rules the table was built from.</summary>
    public int RuleCount { get; }

    /// <summary>The number of tbl8 groups in use (one per /24 that holds a prefix longer than /24).</summary>
    public int Tbl8GroupCount { get; }

    /// <summary>Returns the next hop of the longest prefix that contains <paramref name="address"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(Ipv4Address address) => Lookup(address.Value);

    /// <summary>Returns the next hop of the longest prefix that contains <paramref name="address"/> (host order), or -1.</summary>
    public int Lookup(uint address)
    {
        uint index = address >> 8;
        uint[] chunk = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tbl24), (nint)(index >> ChunkShift));
        uint e = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunk), (nint)(index & ChunkMask));
        if ((e & Ipv4Lpm.GroupFlag) != 0)
        {
            uint group = e & Ipv4Lpm.ValueMask;
            // Group indexes are below the tbl8 chunks' count times 16 by construction: the bounds check stays.
            e = _tbl8[group >> GroupsPerChunkShift][((group & (GroupsPerChunk - 1)) << 8) | (address & 0xFF)];
        }
        return (int)(e & Ipv4Lpm.ValueMask) - 1;
    }

    /// <summary>Looks up every address of <paramref name="addresses"/> into the same index of <paramref name="results"/>.</summary>
    public void Lookup(ReadOnlySpan<Ipv4Address> addresses, Span<int> results)
    {
        if (results.Length < addresses.Length)
            throw new ArgumentException("results must be at least as long as addresses", nameof(results));
        for (int i = 0; i < addresses.Length; i++)
            results[i] = Lookup(addresses[i].Value);
    }
}
