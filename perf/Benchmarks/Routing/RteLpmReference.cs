using System.Runtime.InteropServices;

namespace XdpStack.Benchmarks.Routing;

/// <summary>DPDK's rte_lpm through perf/native/lpm_ref.c, compiled on first use and loaded with function pointers.</summary>
internal sealed unsafe class RteLpmReference : IDisposable
{
    private static nint s_library;
    private static delegate* unmanaged<int, int> s_init;
    private static delegate* unmanaged<byte*, uint*, byte*, uint*, int, uint, int*, nint> s_create;
    private static delegate* unmanaged<nint, uint, int*, nint> s_copyToHugePages;
    private static delegate* unmanaged<nint, uint, void> s_freeCopy;
    private static delegate* unmanaged<nint, uint*, int*, int, void> s_lookupX4;
    private static delegate* unmanaged<nint, uint*, int*, int, void> s_lookup;
    private static delegate* unmanaged<nint, uint*, int*, int, void> s_lookupBulk;
    private static delegate* unmanaged<nint, void> s_free;
    private static int s_tables;

    private nint _lpm;      // the table rte_lpm built, in EAL memory
    private nint _lookups;  // what lookups read: _lpm, or its copy on huge pages
    private nint _copy;
    private uint _copyTbl8s;

    public RteLpmReference(ReadOnlySpan<uint> prefixes, ReadOnlySpan<byte> lengths, ReadOnlySpan<uint> nextHops, uint tbl8Groups)
    {
        EnsureLoaded();
        byte[] name = System.Text.Encoding.ASCII.GetBytes($"xdpstack{s_tables++}\0");
        int error;
        fixed (byte* n = name)
        fixed (uint* p = prefixes)
        fixed (byte* l = lengths)
        fixed (uint* h = nextHops)
            _lpm = s_create(n, p, l, h, prefixes.Length, tbl8Groups, &error);
        if (_lpm == 0)
            throw new InvalidOperationException($"rte_lpm_create/rte_lpm_add failed: {Marshal.GetPInvokeErrorMessage(error)} ({error})");
        _lookups = _lpm;
    }

    public void LookupX4(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        fixed (uint* a = addresses)
        fixed (int* r = results)
            s_lookupX4(_lookups, a, r, addresses.Length);
    }

    public void Lookup(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        fixed (uint* a = addresses)
        fixed (int* r = results)
            s_lookup(_lookups, a, r, addresses.Length);
    }

    public void LookupBulk(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        fixed (uint* a = addresses)
        fixed (int* r = results)
            s_lookupBulk(_lookups, a, r, addresses.Length);
    }

    /// <summary>Makes lookups read a copy of tbl24 and tbl8 on transparent huge pages (see lpm_ref_copy_to_huge_pages), or the original again.</summary>
    public void UseHugePages(bool on, uint tbl8Groups)
    {
        if (on && _copy == 0)
        {
            int error;
            _copy = s_copyToHugePages(_lpm, tbl8Groups, &error);
            if (_copy == 0)
                throw new InvalidOperationException($"copying rte_lpm to MADV_HUGEPAGE memory failed: {Marshal.GetPInvokeErrorMessage(error)}");
            _copyTbl8s = tbl8Groups;
        }
        _lookups = on ? _copy : _lpm;
    }

    public void Dispose()
    {
        if (_copy != 0)
            s_freeCopy(_copy, _copyTbl8s);
        if (_lpm != 0)
            s_free(_lpm);
        _lpm = _lookups = _copy = 0;
    }

    private static void EnsureLoaded()
    {
        if (s_library != 0)
            return;
        s_library = NativeLibrary.Load(DpdkReferenceBuild.EnsureBuilt("lpm_ref"));
        s_init = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(s_library, "lpm_ref_init");
        s_create = (delegate* unmanaged<byte*, uint*, byte*, uint*, int, uint, int*, nint>)NativeLibrary.GetExport(s_library, "lpm_ref_create");
        s_copyToHugePages = (delegate* unmanaged<nint, uint, int*, nint>)NativeLibrary.GetExport(s_library, "lpm_ref_copy_to_huge_pages");
        s_freeCopy = (delegate* unmanaged<nint, uint, void>)NativeLibrary.GetExport(s_library, "lpm_ref_free_copy");
        s_lookupX4 = (delegate* unmanaged<nint, uint*, int*, int, void>)NativeLibrary.GetExport(s_library, "lpm_ref_lookup_x4");
        s_lookup = (delegate* unmanaged<nint, uint*, int*, int, void>)NativeLibrary.GetExport(s_library, "lpm_ref_lookup");
        s_lookupBulk = (delegate* unmanaged<nint, uint*, int*, int, void>)NativeLibrary.GetExport(s_library, "lpm_ref_lookup_bulk");
        s_free = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(s_library, "lpm_ref_free");
        // EAL pins the calling thread to this lcore; use the CPU we are on so the benchmark thread stays put.
        int rc = s_init(Thread.GetCurrentProcessorId());
        if (rc != 0)
            throw new InvalidOperationException($"rte_eal_init(--no-huge -m 512 --no-pci --no-shconf) failed: {Marshal.GetPInvokeErrorMessage(-rc)} ({-rc})");
    }
}
