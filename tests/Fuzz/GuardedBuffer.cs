using System.Runtime.InteropServices;

namespace XdpStack.Fuzz;

/// <summary>Memory whose last usable octet is followed by an inaccessible page, so a read one past an input faults.</summary>
/// <remarks>
/// Span bounds checks catch out-of-bounds reads in safe code; the stack's fast paths, checksum and LPM read through
/// refs and pointers, where an overrun reads whatever follows. An input placed to end at the guard page turns such a
/// read into SIGSEGV, which fuzz/libfuzzer-dotnet.c reports as a crash (the BoundedMemory idea of dotnet/runtime's
/// tests). One buffer per target, reused for every input.
/// </remarks>
internal sealed unsafe class GuardedBuffer
{
    private const int ProtRead = 1, ProtWrite = 2, ProtNone = 0;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;

    private readonly byte* _start;
    private readonly int _capacity;

    public GuardedBuffer(int capacity)
    {
        int page = Environment.SystemPageSize;
        _capacity = (capacity + page - 1) / page * page;
        nint map = mmap(0, (nuint)(_capacity + page), ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (map == -1)
            throw new InvalidOperationException($"mmap: errno {Marshal.GetLastPInvokeError()}");
        _start = (byte*)map;
        if (mprotect(map + _capacity, (nuint)page, ProtNone) != 0)
            throw new InvalidOperationException($"mprotect: errno {Marshal.GetLastPInvokeError()}");
    }

    public int Capacity => _capacity;

    /// <summary>Copies <paramref name="input"/> (at most <see cref="Capacity"/> octets of it) to end at the guard page.</summary>
    public Span<byte> Place(ReadOnlySpan<byte> input)
    {
        int length = Math.Min(input.Length, _capacity);
        var span = new Span<byte>(_start + _capacity - length, length);
        input[..length].CopyTo(span);
        return span;
    }

    /// <summary>The whole buffer; its end is the guard page.</summary>
    public Span<byte> All => new(_start, _capacity);

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(nint addr, nuint length, int prot);
}
