using System.Runtime.InteropServices;

namespace XdpStack.Xdp.Tests;

/// <summary>Plain native memory laid out like a kernel ring (producer, consumer, flags, entries), for ring tests.</summary>
internal sealed unsafe class RingMemory : IDisposable
{
    private readonly byte* _block;

    public RingMemory(uint size, int entrySize, uint start)
    {
        // Producer, consumer and flags on separate cache lines, as the kernel lays them out.
        _block = (byte*)NativeMemory.AlignedAlloc((nuint)(192 + size * entrySize), 64);
        new Span<byte>(_block, (int)(192 + size * entrySize)).Fill(0xA5);
        Producer = (uint*)_block;
        Consumer = (uint*)(_block + 64);
        Flags = (uint*)(_block + 128);
        Entries = _block + 192;
        *Producer = start;
        *Consumer = start;
        *Flags = 0;
        Size = size;
    }

    public uint* Producer { get; }
    public uint* Consumer { get; }
    public uint* Flags { get; }
    public byte* Entries { get; }
    public uint Size { get; }

    public ulong* Addresses => (ulong*)Entries;
    public XdpDescriptor* Descriptors => (XdpDescriptor*)Entries;

    public FillRing Fill() => new(Producer, Consumer, Flags, Addresses, Size);
    public TxRing Tx() => new(Producer, Consumer, Flags, Descriptors, Size);
    public CompletionRing Completion() => new(Producer, Consumer, Addresses, Size);
    public RxRing Rx() => new(Producer, Consumer, Descriptors, Size);

    /// <summary>Plays the kernel consuming <paramref name="n"/> entries of a producer ring.</summary>
    public void KernelConsume(uint n) => *Consumer += n;

    /// <summary>Plays the kernel producing addresses into a consumer ring; returns false when full.</summary>
    public bool KernelProduce(ulong value)
    {
        if (*Producer - *Consumer == Size)
            return false;
        Addresses[*Producer & (Size - 1)] = value;
        Volatile.Write(ref *Producer, *Producer + 1);
        return true;
    }

    /// <summary>Plays the kernel producing a descriptor into the RX ring; returns false when full.</summary>
    public bool KernelProduce(XdpDescriptor value)
    {
        if (*Producer - *Consumer == Size)
            return false;
        Descriptors[*Producer & (Size - 1)] = value;
        Volatile.Write(ref *Producer, *Producer + 1);
        return true;
    }

    public void Dispose() => NativeMemory.AlignedFree(_block);
}
