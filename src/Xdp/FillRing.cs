using System.Runtime.CompilerServices;
using XdpStack.Xdp.Interop;

namespace XdpStack.Xdp;

/// <summary>The fill ring: the application produces frame addresses for the kernel to receive into.</summary>
/// <remarks>
/// Single producer (the owning worker), single consumer (the kernel). Indices are free-running
/// u32 values masked by <c>Size - 1</c>, so they wrap at 2^32 by plain unsigned arithmetic.
/// Use: <c>n = Reserve(k, out idx)</c>, write <c>this[idx + i]</c> for i &lt; n, <c>Submit(n)</c>.
/// </remarks>
public sealed unsafe class FillRing
{
    private readonly uint* _producer;   // we write (release); the kernel reads
    private readonly uint* _consumer;   // the kernel writes; we read (acquire) only when the cache runs out
    private readonly uint* _flags;      // the kernel writes XDP_RING_NEED_WAKEUP
    private readonly ulong* _ring;
    private readonly uint _mask;
    private uint _cachedProducer;       // next index to reserve; runs ahead of *_producer until Submit
    private uint _cachedConsumer;       // last seen consumer + Size: the first index we may not write
    private uint _producerValue;        // our copy of *_producer, so Submit never reads shared memory

    /// <summary>Wraps a ring whose producer, consumer, flags and entries live at the given addresses.</summary>
    /// <remarks>Used over the kernel's mapping, and over plain memory in tests.</remarks>
    public FillRing(uint* producer, uint* consumer, uint* flags, ulong* ring, uint size)
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

    /// <summary>True when the kernel wants a wakeup (poll/recvfrom) before it looks at this ring again.</summary>
    public bool NeedsWakeup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (Volatile.Read(ref *_flags) & Kernel.XDP_RING_NEED_WAKEUP) != 0;
    }

    /// <summary>Entries free for <see cref="Reserve"/> now (refreshes the consumer when needed).</summary>
    public int FreeCount => (int)Free(Size);

    /// <summary>Reserves up to <paramref name="count"/> entries starting at <paramref name="index"/>; returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Reserve(int count, out uint index)
    {
        uint n = Math.Min(Free((uint)count), (uint)count);
        index = _cachedProducer;
        _cachedProducer += n;
        return (int)n;
    }

    /// <summary>The address slot at a reserved index.</summary>
    public ref ulong this[uint index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _ring[index & _mask];
    }

    /// <summary>The address slot at a reserved index (same as the indexer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref ulong Address(uint index) => ref _ring[index & _mask];

    /// <summary>Hands <paramref name="count"/> reserved entries to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Submit(int count)
    {
        _producerValue += (uint)count;
        // Release: the entries written above become visible before the new producer index.
        Volatile.Write(ref *_producer, _producerValue);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Free(uint wanted)
    {
        uint free = _cachedConsumer - _cachedProducer;
        if (free >= wanted)
            return free;
        // Acquire: the kernel has finished reading the entries it consumed before we overwrite them.
        _cachedConsumer = Volatile.Read(ref *_consumer) + Size;
        return _cachedConsumer - _cachedProducer;
    }
}
