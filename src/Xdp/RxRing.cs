using System.Runtime.CompilerServices;

namespace XdpStack.Xdp;

/// <summary>The RX ring: the kernel produces descriptors of frames it received into the UMEM.</summary>
/// <remarks>
/// Single producer (the kernel), single consumer (the owning worker). Use:
/// <c>n = Peek(k, out idx)</c>, read <c>Descriptor(idx + i)</c> for i &lt; n, <c>Release(n)</c>.
/// Released entries may be overwritten at once, so copy what is needed from a descriptor first;
/// the frame itself stays the application's until it goes back to a fill or TX ring or the pool.
/// </remarks>
public sealed unsafe class RxRing
{
    private readonly uint* _producer;   // the kernel writes; we read (acquire) only when the cache is empty
    private readonly uint* _consumer;   // we write (release); the kernel reads
    private readonly XdpDescriptor* _ring;
    private readonly uint _mask;
    private uint _cachedProducer;       // last producer value seen
    private uint _cachedConsumer;       // next index to peek; runs ahead of *_consumer until Release
    private uint _consumerValue;        // our copy of *_consumer, so Release never reads shared memory

    /// <summary>Wraps a ring whose producer, consumer and entries live at the given addresses.</summary>
    /// <remarks>Used over the kernel's mapping, and over plain memory in tests.</remarks>
    public RxRing(uint* producer, uint* consumer, XdpDescriptor* ring, uint size)
    {
        RingSize.Check(size);
        _producer = producer;
        _consumer = consumer;
        _ring = ring;
        _mask = size - 1;
        Size = size;
        _cachedProducer = Volatile.Read(ref *producer);
        _consumerValue = _cachedConsumer = Volatile.Read(ref *consumer);
    }

    /// <summary>Number of entries.</summary>
    public uint Size { get; }

    /// <summary>Entries between the shared consumer and producer indices now: what the ring holds as the kernel sees it.</summary>
    /// <remarks>For metrics on another thread: it reads only the shared indices, never this side's cached ones, so it is a moment's view.</remarks>
    public int Entries => (int)(Volatile.Read(ref *_producer) - Volatile.Read(ref *_consumer));

    /// <summary>Entries ready to peek now (reads the producer).</summary>
    public int Available => (int)(Volatile.Read(ref *_producer) - _cachedConsumer);

    /// <summary>Takes up to <paramref name="max"/> ready entries starting at <paramref name="index"/>; returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Peek(int max, out uint index)
    {
        uint entries = _cachedProducer - _cachedConsumer;
        if (entries == 0)
        {
            // Acquire: the entries the kernel wrote are visible once we see its producer index.
            _cachedProducer = Volatile.Read(ref *_producer);
            entries = _cachedProducer - _cachedConsumer;
        }
        uint n = Math.Min(entries, (uint)max);
        index = _cachedConsumer;
        _cachedConsumer += n;
        return (int)n;
    }

    /// <summary>The received descriptor at a peeked index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref readonly XdpDescriptor Descriptor(uint index) => ref _ring[index & _mask];

    /// <summary>Gives <paramref name="count"/> peeked entries back to the kernel.</summary>
    /// <summary>Puts back the last <paramref name="count"/> entries peeked and not consumed, so the next <see cref="Peek"/> returns them again (the rest of a multi-buffer chain that a peek cut).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Unpeek(int count)
    {
        if ((uint)count > _cachedConsumer - _consumerValue)
            throw new ArgumentOutOfRangeException(nameof(count), count, "more entries than are peeked");
        _cachedConsumer -= (uint)count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Release(int count)
    {
        _consumerValue += (uint)count;
        // Release: our reads of the entries happen before the kernel may overwrite them.
        Volatile.Write(ref *_consumer, _consumerValue);
    }
}
