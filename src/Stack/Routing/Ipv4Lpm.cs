using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Routing;

/// <summary>An immutable IPv4 longest-prefix-match table in DPDK's DIR-24-8 layout, built by <see cref="Ipv4LpmBuilder"/>.</summary>
/// <remarks>
/// <para>
/// Layout (DPDK <c>rte_lpm</c>, <c>doc/guides/prog_guide/lpm_lib.rst</c>): <c>tbl24</c> has one 32-bit entry per /24
/// (2^24 entries, 64 MiB). Prefixes of length 24 or less are expanded into every /24 they cover. A /24 that holds a
/// longer prefix points instead to a <c>tbl8</c> group of 256 entries, one per address in that /24. So a lookup is one
/// memory read, or two for addresses under a prefix longer than /24.
/// </para>
/// <para>
/// Entry bits: 0..23 value (next hop plus one, so an empty entry reads as -1; or a tbl8 group index), 24 valid,
/// 25 group (tbl24 only: the value is a tbl8 group), 26..31 the depth of the rule that wrote the entry (the builder
/// needs it for prefix expansion; lookups ignore it).
/// </para>
/// <para>
/// Lifetime and threading: both tables are GC-owned arrays on the pinned object heap. Once a builder has published a
/// table it never writes to it again while a reader may hold it: without <see cref="ReaderEpochs"/> never (the builder
/// copies it before the next change); with them, the builder alternates between two tables and brings one up to date
/// only after every reader has called <see cref="ReaderEpoch.Quiesce"/> (or gone offline) since it stopped being the
/// published one (see <see cref="Ipv4LpmBuilder"/>). Either way any number of threads may look up concurrently with no
/// lock and no barrier beyond the <see cref="Volatile.Read{T}(ref readonly T)"/> of the reference. An old snapshot stays valid for as long as a reader holds it; the GC frees it after the last reader
/// drops it, which is our RCU grace period. Pinning costs nothing on the POH and lets the batched lookup gather
/// with raw pointers.
/// </para>
/// </remarks>
public sealed class Ipv4Lpm
{
    /// <summary>The largest next-hop index a rule can carry (2^24 - 2: the value field holds next hop plus one).</summary>
    public const int MaxNextHop = 0xFF_FFFE;

    internal const int Tbl24Entries = 1 << 24;
    internal const int Tbl8GroupEntries = 256;
    internal const uint ValueMask = 0x00FF_FFFF;
    internal const uint ValidFlag = 1u << 24;
    internal const uint GroupFlag = 1u << 25;
    internal const int DepthShift = 26;

    // Builder-owned until published; read-only afterwards.
    internal readonly uint[] _tbl24;
    internal uint[] _tbl8;
    internal int _tbl8GroupsUsed;
    internal int _ruleCount;

    internal Ipv4Lpm(uint[] tbl24, uint[] tbl8)
    {
        _tbl24 = tbl24;
        _tbl8 = tbl8;
    }

    /// <summary>The number of rules the table was built from.</summary>
    public int RuleCount => _ruleCount;

    /// <summary>The number of tbl8 groups in use (one per /24 that holds a prefix longer than /24).</summary>
    public int Tbl8GroupCount => _tbl8GroupsUsed;

    /// <summary>The number of tbl8 groups allocated (in use or free).</summary>
    public int Tbl8Capacity => _tbl8.Length / Tbl8GroupEntries;

    /// <summary>Bytes of table memory this snapshot holds, free tbl8 groups included.</summary>
    public long MemoryBytes => ((long)_tbl24.Length + _tbl8.Length) * sizeof(uint);

    /// <summary>Returns the next hop of the longest prefix that contains <paramref name="address"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(Ipv4Address address) => Lookup(address.Value);

    /// <summary>Looks up every address of <paramref name="addresses"/> into the same index of <paramref name="results"/>.</summary>
    public void Lookup(ReadOnlySpan<Ipv4Address> addresses, Span<int> results) =>
        Lookup(MemoryMarshal.Cast<Ipv4Address, uint>(addresses), results);

    /// <summary>Returns the next hop of the longest prefix that contains <paramref name="address"/> (host order), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(uint address)
    {
        uint e = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tbl24), (nint)(address >> 8));
        if ((e & GroupFlag) != 0)
            e = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tbl8), ((nint)(e & ValueMask) << 8) | (nint)(address & 0xFF));
        return (int)(e & ValueMask) - 1;
    }

    /// <summary>Looks up every address of <paramref name="addresses"/> (host order) into the same index of <paramref name="results"/>.</summary>
    /// <remarks>
    /// Independent lookups let the CPU keep many tbl24 misses in flight. With AVX2 eight lookups are issued as one gather
    /// and only lanes that hit a tbl8 group take a second, masked gather; otherwise <see cref="LookupScalar"/> runs.
    /// </remarks>
    public void Lookup(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        if (results.Length < addresses.Length)
            ThrowResultsTooShort();
        if (Avx2.IsSupported)
            LookupAvx2(addresses, results);
        else
            LookupScalar(addresses, results);
    }

    /// <summary>The batched lookup without SIMD; public so tests and benchmarks can compare paths.</summary>
    /// <remarks>
    /// Two passes, as DPDK's rte_lpm_lookup_bulk: the first only copies tbl24 entries into <paramref name="results"/>,
    /// a loop of independent loads that keeps the most misses in flight; the second resolves tbl8 groups and converts.
    /// Measured on the project machine it beat four interleaved lookups with one combined group check by about 20%.
    /// </remarks>
    public void LookupScalar(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        if (results.Length < addresses.Length)
            ThrowResultsTooShort();
        ref uint tbl24 = ref MemoryMarshal.GetArrayDataReference(_tbl24);
        ref uint tbl8 = ref MemoryMarshal.GetArrayDataReference(_tbl8);
        ref uint src = ref MemoryMarshal.GetReference(addresses);
        ref uint raw = ref Unsafe.As<int, uint>(ref MemoryMarshal.GetReference(results));
        int n = addresses.Length;
        for (int i = 0; i < n; i++)
            Unsafe.Add(ref raw, i) = Unsafe.Add(ref tbl24, (nint)(Unsafe.Add(ref src, i) >> 8));
        for (int i = 0; i < n; i++)
        {
            uint e = Unsafe.Add(ref raw, i);
            if ((e & GroupFlag) != 0)
                e = Unsafe.Add(ref tbl8, ((nint)(e & ValueMask) << 8) | (nint)(Unsafe.Add(ref src, i) & 0xFF));
            Unsafe.Add(ref raw, i) = (e & ValueMask) - 1;
        }
    }

    /// <summary>The batched lookup with AVX2 gathers, eight addresses at a time; callers must check <see cref="Avx2.IsSupported"/>.</summary>
    public unsafe void LookupAvx2(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        if (results.Length < addresses.Length)
            ThrowResultsTooShort();
        int n = addresses.Length;
        int i = 0;
        // Fixing a POH array is free and keeps the snapshot reachable for the whole loop.
        fixed (uint* tbl24 = _tbl24)
        fixed (uint* tbl8 = _tbl8)
        fixed (uint* src = addresses)
        fixed (int* dst = results)
        {
            Vector256<uint> valueMask = Vector256.Create(ValueMask);
            Vector256<uint> groupFlag = Vector256.Create(GroupFlag);
            Vector256<uint> lowByte = Vector256.Create(0xFFu);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<uint> a = Avx.LoadVector256(src + i);
                Vector256<int> e = Avx2.GatherVector256((int*)tbl24, Avx2.ShiftRightLogical(a, 8).AsInt32(), 4);
                Vector256<uint> isGroup = Vector256.Equals(e.AsUInt32() & groupFlag, groupFlag);
                if (isGroup != Vector256<uint>.Zero)
                {
                    Vector256<uint> index8 = Avx2.ShiftLeftLogical(e.AsUInt32() & valueMask, 8) | (a & lowByte);
                    e = Avx2.GatherMaskVector256(e, (int*)tbl8, index8.AsInt32(), isGroup.AsInt32(), 4);
                }
                Avx.Store(dst + i, (e.AsUInt32() & valueMask).AsInt32() - Vector256<int>.One);
            }
            for (; i < n; i++)
            {
                uint a = src[i];
                uint e = tbl24[a >> 8];
                if ((e & GroupFlag) != 0)
                    e = tbl8[((nint)(e & ValueMask) << 8) | (nint)(a & 0xFF)];
                dst[i] = (int)(e & ValueMask) - 1;
            }
        }
    }

    internal Ipv4Lpm Clone(bool hugePages)
    {
        uint[] tbl24 = GC.AllocateUninitializedArray<uint>(Tbl24Entries, pinned: true);
        if (hugePages)
            HugePages.Advise(tbl24);
        _tbl24.AsSpan().CopyTo(tbl24);
        uint[] tbl8 = GC.AllocateUninitializedArray<uint>(_tbl8.Length, pinned: true);
        _tbl8.AsSpan().CopyTo(tbl8);
        return new Ipv4Lpm(tbl24, tbl8) { _tbl8GroupsUsed = _tbl8GroupsUsed, _ruleCount = _ruleCount };
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowResultsTooShort() => throw new ArgumentException("results must be at least as long as addresses", "results");
}
