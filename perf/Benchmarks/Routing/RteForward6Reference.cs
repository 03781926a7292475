using System.Runtime.InteropServices;
using XdpStack.Stack.Link;

namespace XdpStack.Benchmarks.Routing;

/// <summary>The C IPv6 fast-path loop of perf/native/fwd6_ref.c on DPDK's rte_lpm6, compiled on first use and called through function pointers.</summary>
internal sealed unsafe class RteForward6Reference : IDisposable
{
    private static nint s_library;
    private static delegate* unmanaged<int, int> s_init;
    private static delegate* unmanaged<byte*, byte*, byte*, uint*, int, uint, int*, nint> s_create;
    private static delegate* unmanaged<nint, byte*, int, byte*, byte*, Frame*, byte*, int*, int, int, int> s_forward;
    private static delegate* unmanaged<nint, void> s_free;
    private static int s_tables;

    private readonly byte[] _hops;      // struct fwd_hop[]: 12 bytes of MACs, port, MTU (20 bytes each)
    private readonly int _hopCount;
    private readonly byte[] _ingressMac;
    private nint _lpm;

    /// <param name="prefixes">The prefixes' addresses, 16 bytes each in network order.</param>
    /// <param name="nextHops">Per rte_lpm6 next hop: the 12 bytes written over the Ethernet addresses, the egress NIC and its MTU.</param>
    public RteForward6Reference(ReadOnlySpan<byte> prefixes, ReadOnlySpan<byte> lengths, ReadOnlySpan<uint> hopIds, uint tbl8Groups,
        IReadOnlyList<(byte[] Macs, int Port, int Mtu)> nextHops, byte[] ingressMac)
    {
        if (prefixes.Length != 16 * lengths.Length || hopIds.Length != lengths.Length)
            throw new ArgumentException("one 16-byte prefix, one length and one next hop per rule");
        EnsureLoaded();
        byte[] name = System.Text.Encoding.ASCII.GetBytes($"xdpfwd6_{s_tables++}\0");
        int error;
        fixed (byte* n = name)
        fixed (byte* p = prefixes)
        fixed (byte* l = lengths)
        fixed (uint* h = hopIds)
            _lpm = s_create(n, p, l, h, lengths.Length, tbl8Groups, &error);
        if (_lpm == 0)
            throw new InvalidOperationException($"rte_lpm6_create/rte_lpm6_add failed: {Marshal.GetPInvokeErrorMessage(error)} ({error})");
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
    }

    /// <summary>Runs fwd6_ref_forward over one batch; <paramref name="bulk"/> picks rte_lpm6_lookup_bulk_func over one rte_lpm6_lookup per packet.</summary>
    public int Forward(Span<byte> memory, Span<Frame> frames, Span<byte> verdicts, Span<int> egress, bool bulk)
    {
        fixed (byte* hops = _hops)
        fixed (byte* mac = _ingressMac)
        fixed (byte* mem = memory)
        fixed (Frame* f = frames)
        fixed (byte* v = verdicts)
        fixed (int* e = egress)
            return s_forward(_lpm, hops, _hopCount, mac, mem, f, v, e, frames.Length, bulk ? 1 : 0);
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
        if (sizeof(Frame) != 12)
            throw new InvalidOperationException($"fwd6_ref.c assumes a 12-byte Frame, not {sizeof(Frame)}");
        s_library = NativeLibrary.Load(DpdkReferenceBuild.EnsureBuilt("fwd6_ref"));
        s_init = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(s_library, "fwd6_ref_init");
        s_create = (delegate* unmanaged<byte*, byte*, byte*, uint*, int, uint, int*, nint>)NativeLibrary.GetExport(s_library, "fwd6_ref_create");
        s_forward = (delegate* unmanaged<nint, byte*, int, byte*, byte*, Frame*, byte*, int*, int, int, int>)NativeLibrary.GetExport(s_library, "fwd6_ref_forward");
        s_free = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(s_library, "fwd6_ref_free");
        int rc = s_init(Thread.GetCurrentProcessorId());
        if (rc != 0)
            throw new InvalidOperationException($"rte_eal_init(--no-huge -m 1024 --no-pci --no-shconf) failed: {Marshal.GetPInvokeErrorMessage(-rc)} ({-rc})");
    }
}
