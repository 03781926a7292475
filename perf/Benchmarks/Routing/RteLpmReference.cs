using System.Diagnostics;
using System.Runtime.InteropServices;

namespace XdpStack.Benchmarks.Routing;

/// <summary>DPDK's rte_lpm through perf/native/lpm_ref.c, compiled on first use and loaded with function pointers.</summary>
internal sealed unsafe class RteLpmReference : IDisposable
{
    private static nint s_library;
    private static delegate* unmanaged<int, int> s_init;
    private static delegate* unmanaged<byte*, uint*, byte*, uint*, int, uint, int*, nint> s_create;
    private static delegate* unmanaged<nint, uint, int> s_useHugePages;
    private static delegate* unmanaged<nint, uint*, int*, int, void> s_lookupX4;
    private static delegate* unmanaged<nint, uint*, int*, int, void> s_lookup;
    private static delegate* unmanaged<nint, uint*, int*, int, void> s_lookupBulk;
    private static delegate* unmanaged<nint, void> s_free;
    private static int s_tables;

    private nint _lpm;

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
    }

    public void LookupX4(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        fixed (uint* a = addresses)
        fixed (int* r = results)
            s_lookupX4(_lpm, a, r, addresses.Length);
    }

    public void Lookup(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        fixed (uint* a = addresses)
        fixed (int* r = results)
            s_lookup(_lpm, a, r, addresses.Length);
    }

    public void LookupBulk(ReadOnlySpan<uint> addresses, Span<int> results)
    {
        fixed (uint* a = addresses)
        fixed (int* r = results)
            s_lookupBulk(_lpm, a, r, addresses.Length);
    }

    /// <summary>Moves the built table onto transparent huge pages (MADV_HUGEPAGE + MADV_COLLAPSE).</summary>
    public void UseHugePages(uint tbl8Groups)
    {
        int rc = s_useHugePages(_lpm, tbl8Groups);
        if (rc != 0)
            throw new InvalidOperationException($"madvise(MADV_HUGEPAGE/MADV_COLLAPSE) on rte_lpm failed: {Marshal.GetPInvokeErrorMessage(-rc)}");
    }

    public void Dispose()
    {
        if (_lpm != 0)
            s_free(_lpm);
        _lpm = 0;
    }

    private static void EnsureLoaded()
    {
        if (s_library != 0)
            return;
        string source = FindSource();
        string output = Path.Combine(Path.GetDirectoryName(source)!, "build", "lpm_ref.so");
        if (!File.Exists(output) || File.GetLastWriteTimeUtc(output) < File.GetLastWriteTimeUtc(source))
            Compile(source, output);
        s_library = NativeLibrary.Load(output);
        s_init = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(s_library, "lpm_ref_init");
        s_create = (delegate* unmanaged<byte*, uint*, byte*, uint*, int, uint, int*, nint>)NativeLibrary.GetExport(s_library, "lpm_ref_create");
        s_useHugePages = (delegate* unmanaged<nint, uint, int>)NativeLibrary.GetExport(s_library, "lpm_ref_use_huge_pages");
        s_lookupX4 = (delegate* unmanaged<nint, uint*, int*, int, void>)NativeLibrary.GetExport(s_library, "lpm_ref_lookup_x4");
        s_lookup = (delegate* unmanaged<nint, uint*, int*, int, void>)NativeLibrary.GetExport(s_library, "lpm_ref_lookup");
        s_lookupBulk = (delegate* unmanaged<nint, uint*, int*, int, void>)NativeLibrary.GetExport(s_library, "lpm_ref_lookup_bulk");
        s_free = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(s_library, "lpm_ref_free");
        // EAL pins the calling thread to this lcore; use the CPU we are on so the benchmark thread stays put.
        int rc = s_init(Thread.GetCurrentProcessorId());
        if (rc != 0)
            throw new InvalidOperationException($"rte_eal_init(--no-huge -m 512 --no-pci --in-memory) failed: {Marshal.GetPInvokeErrorMessage(-rc)} ({-rc})");
    }

    private static string FindSource()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, "perf", "native", "lpm_ref.c");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("perf/native/lpm_ref.c not found above " + AppContext.BaseDirectory);
    }

    private static void Compile(string source, string output)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        string command = $"gcc -O3 $(pkg-config --cflags libdpdk) -march=native -shared -fPIC -o '{output}' '{source}' $(pkg-config --libs libdpdk)";
        using var gcc = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardError = true })!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0)
            throw new InvalidOperationException($"{command} failed ({gcc.ExitCode}); is dpdk-dev installed? {errors}");
    }
}
