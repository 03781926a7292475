using System.Runtime.InteropServices;
using XdpStack.Stack.Link;

namespace XdpStack.Benchmarks.Routing;

/// <summary>The C fast-path loop of perf/native/fwd_ref.c on DPDK's rte_lpm, compiled on first use and called through function pointers.</summary>
internal sealed unsafe class RteForwardReference : IDisposable
{
    private static nint s_library;
    private static delegate* unmanaged<int, int> s_init;
    private static delegate* unmanaged<byte*, uint*, byte*, uint*, int, uint, int*, nint> s_create;
    private static delegate* unmanaged<nint, byte*, int, byte*, uint*, int, int, byte*, Frame*, byte*, int*, int, int, int> s_forward;
    private static delegate* unmanaged<nint, void> s_free;
    private static delegate* unmanaged<nint, uint, int*, nint> s_copyToHugePages;
    private static delegate* unmanaged<nint, uint, void> s_freeCopy;
    private static int s_tables;

    private readonly byte[] _hops;      // struct fwd_hop[]: 12 bytes of MACs, port, MTU (20 bytes each)
    private readonly int _hopCount;
    private readonly byte[] _ingressMac;
    private readonly uint[] _refused;
    private nint _lpm;
    private nint _hugeCopy;
    private uint _tbl8Groups;

    /// <param name="nextHops">Per rte_lpm next hop: the 12 bytes written over the Ethernet addresses, the egress NIC and its MTU.</param>
    public RteForwardReference(ReadOnlySpan<uint> prefixes, ReadOnlySpan<byte> lengths, ReadOnlySpan<uint> hopIds, uint tbl8Groups,
        IReadOnlyList<(byte[] Macs, int Port, int Mtu)> nextHops, byte[] ingressMac, uint[] refusedSources)
    {
        EnsureLoaded();
        byte[] name = System.Text.Encoding.ASCII.GetBytes($"xdpfwd{s_tables++}\0");
        int error;
        fixed (byte* n = name)
        fixed (uint* p = prefixes)
        fixed (byte* l = lengths)
        fixed (uint* h = hopIds)
            _lpm = s_create(n, p, l, h, prefixes.Length, tbl8Groups, &error);
        if (_lpm == 0)
            throw new InvalidOperationException($"rte_lpm_create/rte_lpm_add failed: {Marshal.GetPInvokeErrorMessage(error)} ({error})");
        _tbl8Groups = tbl8Groups;
        _hopCount = nextHops.Count;
        _hops = GC.AllocateArray<byte>(20 * _hopCount, pinned: true);
        for (int i = 0; i < _hopCount; i++)
        {
            nextHops[i].Macs.CopyTo(_hops, 20 * i);
            BitConverter.TryWriteBytes(_hops.AsSpan(20 * i + 12), nextHops[i].Port);
            BitConverter.TryWriteBytes(_hops.AsSpan(20 * i + 16), nextHops[i].Mtu);
        }
        _ingressMac = GC.AllocateArray<byte>(8, pinned: true);
        ingressMac.CopyTo(_ingressMac, 0);
        _refused = GC.AllocateArray<uint>(Math.Max(1, refusedSources.Length), pinned: true);
        refusedSources.CopyTo(_refused, 0);
        RefusedCount = refusedSources.Length;
    }

    private int RefusedCount { get; }

    /// <summary>From now on looks up in a copy of the tables on MADV_HUGEPAGE memory (fwd_ref.c says why a copy).</summary>
    public void UseHugePages()
    {
        if (_hugeCopy != 0)
            return;
        int error;
        _hugeCopy = s_copyToHugePages(_lpm, _tbl8Groups, &error);
        if (_hugeCopy == 0)
            throw new InvalidOperationException($"huge-page copy of rte_lpm failed: {Marshal.GetPInvokeErrorMessage(error)} ({error})");
    }

    /// <summary>Runs fwd_ref_forward over one batch; <paramref name="bulk"/> picks rte_lpm_lookup_bulk over rte_lpm_lookupx4.</summary>
    /// <param name="refusedEgress">The NIC no frame may leave by (the fast path's hairpin rule), or -1.</param>
    public int Forward(Span<byte> memory, Span<Frame> frames, Span<byte> verdicts, Span<int> egress, int refusedEgress, bool bulk)
    {
        fixed (byte* hops = _hops)
        fixed (byte* mac = _ingressMac)
        fixed (uint* refused = _refused)
        fixed (byte* mem = memory)
        fixed (Frame* f = frames)
        fixed (byte* v = verdicts)
        fixed (int* e = egress)
            return s_forward(_hugeCopy != 0 ? _hugeCopy : _lpm, hops, _hopCount, mac, refused, RefusedCount, refusedEgress, mem, f, v, e,
                frames.Length, bulk ? 1 : 0);
    }

    public void Dispose()
    {
        if (_hugeCopy != 0)
            s_freeCopy(_hugeCopy, _tbl8Groups);
        _hugeCopy = 0;
        if (_lpm != 0)
            s_free(_lpm);
        _lpm = 0;
    }

    private static void EnsureLoaded()
    {
        if (s_library != 0)
            return;
        if (sizeof(Frame) != 12)
            throw new InvalidOperationException($"fwd_ref.c assumes a 12-byte Frame, not {sizeof(Frame)}");
        s_library = NativeLibrary.Load(DpdkReferenceBuild.EnsureBuilt("fwd_ref"));
        s_init = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(s_library, "fwd_ref_init");
        s_create = (delegate* unmanaged<byte*, uint*, byte*, uint*, int, uint, int*, nint>)NativeLibrary.GetExport(s_library, "fwd_ref_create");
        s_forward = (delegate* unmanaged<nint, byte*, int, byte*, uint*, int, int, byte*, Frame*, byte*, int*, int, int, int>)NativeLibrary.GetExport(s_library, "fwd_ref_forward");
        s_free = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(s_library, "fwd_ref_free");
        s_copyToHugePages = (delegate* unmanaged<nint, uint, int*, nint>)NativeLibrary.GetExport(s_library, "fwd_ref_copy_to_huge_pages");
        s_freeCopy = (delegate* unmanaged<nint, uint, void>)NativeLibrary.GetExport(s_library, "fwd_ref_free_copy");
        int rc = s_init(Thread.GetCurrentProcessorId());
        if (rc != 0)
            throw new InvalidOperationException($"rte_eal_init(--no-huge -m 512 --no-pci --no-shconf) failed: {Marshal.GetPInvokeErrorMessage(-rc)} ({-rc})");
    }
}
