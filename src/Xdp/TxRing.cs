using System.Runtime.CompilerServices;
using XdpStack.Xdp.Interop;

namespace XdpStack.Xdp;

/// <summary>The TX ring: the application produces descriptors of frames for the kernel to send.</summary>
/// <remarks>
/// Single producer (the owning worker), single consumer (the kernel). Indices are free-running
/// u32 values masked by <c>Size - 1</c>. Use: <c>n = Reserve(k, out idx)</c>, fill
/// <c>Descriptor(idx + i)</c>, <c>Submit(n)</c>, then kick the socket only when
/// <see cref="NeedsWakeup"/> says so. Sent frames come back on the completion ring.
/// </remarks>
public sealed unsafe class TxRing
{
    private readonly uint* _producer;   // we write (release); the kernel reads
    private readonly uint* _consumer;   // the kernel writes; we read (acquire) only when the cache runs out
    private readonly uint* _flags;      // the kernel writes XDP_RING_NEED_WAKEUP
    private readonly XdpDescriptor* _ring;
    private readonly uint _mask;
    private uint _cachedProducer;       // next index to reserve; runs ahead of *_producer until Submit
    private uint _cachedConsumer;       // last seen consumer + Size: the first index we may not write
    private uint _producerValue;        // our copy of *_producer, so Submit never reads shared memory

    /// <summary>Wraps a ring whose producer, consumer, flags and entries live at the given addresses.</summary>
    /// <remarks>Used over the kernel's mapping, and over plain memory in tests.</remarks>
    public TxRing(uint* producer, uint* consumer, uint* flags, XdpDescriptor* ring, uint size)
    {
        RingSize.Check(size);
        _producer = producer;
        _consumer = consumer;
        _flags = flags;
        _ring = ring;
        _mask = size - 1;
        Size = size;
        _producerValue = _cachedProducer = Volatile.Read(ref *producer);
        _cachedConsumer = Volatile.Read(ref *consumer) + size;
    }

    /// <summary>Number of entries.</summary>
    public uint Size { get; }

    /// <summary>Entries between the shared consumer and producer indices now: what the ring holds as the kernel sees it.</summary>
    /// <remarks>For metrics on another thread: it reads only the shared indices, never this side's cached ones, so it is a moment's view.</remarks>
    public int Entries => (int)(Volatile.Read(ref *_producer) - Volatile.Read(ref *_consumer));

    /// <summary>True when the kernel will not look at this ring until woken (sendto).</summary>
    public bool NeedsWakeup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (Volatile.Read(ref *_flags) & Kernel.XDP_RING_NEED_WAKEUP) != 0;
    }

    /// <summary>Entries free for <see cref="Reserve"/> now (refreshes the consumer when needed).</summary>
    public int FreeCount => (int)Free(Size);

    /// <summary>Entries submitted that the kernel has not consumed yet (reads the consumer).</summary>
    public int Outstanding => (int)(_producerValue - Volatile.Read(ref *_consumer));

    /// <summary>Reserves up to <paramref name="count"/> entries starting at <paramref name="index"/>; returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Reserve(int count, out uint index)
    {
        uint n = Math.Min(Free((uint)count), (uint)count);
        index = _cachedProducer;
        _cachedProducer += n;
        return (int)n;
    }

    /// <summary>The descriptor slot at a reserved index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref XdpDescriptor Descriptor(uint index) => ref _ring[index & _mask];

    /// <summary>Hands <paramref name="count"/> reserved descriptors to the kernel.</summary>
    /// <summary>Gives back the last <paramref name="count"/> entries reserved and not submitted (a batch that must not be split, such as a multi-buffer chain, did not fit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Unreserve(int count)
    {
        if ((uint)count > _cachedProducer - _producerValue)
            throw new ArgumentOutOfRangeException(nameof(count), count, "more entries than are reserved");
        _cachedProducer -= (uint)count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Submit(int count)
    {
        _producerValue += (uint)count;
        // Release: the descriptors written above become visible before the new producer index.
        Volatile.Write(ref *_producer, _producerValue);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Free(uint wanted)
    {
        uint free = _cachedConsumer - _cachedProducer;
        if (free >= wanted)
            return free;
        // Acquire: the kernel has finished reading the descriptors it consumed before we overwrite them.
        _cachedConsumer = Volatile.Read(ref *_consumer) + Size;
        return _cachedConsumer - _cachedProducer;
    }
}
