using CsCheck;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Xdp.Tests;

public sealed unsafe class RingTests
{
    private const uint NearWrap = 0xFFFF_FFF0;

    [Fact]
    public void FillRing_ReserveAcross2Pow32_WrapsIndexAndSlots()
    {
        using var memory = new RingMemory(16, sizeof(ulong), NearWrap);
        FillRing ring = memory.Fill();

        Assert.Equal(16, ring.Reserve(16, out uint index));
        Assert.Equal(NearWrap, index);
        for (uint i = 0; i < 16; i++)
            ring[index + i] = 0x1000 * i;
        ring.Submit(16);

        Assert.Equal(0u, *memory.Producer);     // 0xFFFFFFF0 + 16 wrapped
        for (uint i = 0; i < 16; i++)
            Assert.Equal(0x1000ul * i, memory.Addresses[(NearWrap + i) & 15]);
    }

    [Fact]
    public void FillRing_Full_ReservesNothingUntilKernelConsumes()
    {
        using var memory = new RingMemory(8, sizeof(ulong), NearWrap);
        FillRing ring = memory.Fill();
        Assert.Equal(8, ring.Reserve(8, out _));
        ring.Submit(8);

        Assert.Equal(0, ring.Reserve(1, out _));
        Assert.Equal(0, ring.FreeCount);

        memory.KernelConsume(3);
        Assert.Equal(3, ring.Reserve(8, out uint index));
        Assert.Equal(NearWrap + 8, index);
        ring.Submit(3);
        Assert.Equal(NearWrap + 11, *memory.Producer);
    }

    [Fact]
    public void FillRing_ReserveWithoutSubmit_IsInvisibleToKernel()
    {
        using var memory = new RingMemory(8, sizeof(ulong), 7);
        FillRing ring = memory.Fill();
        Assert.Equal(5, ring.Reserve(5, out _));
        Assert.Equal(7u, *memory.Producer);
        Assert.Equal(3, ring.FreeCount);
    }

    [Fact]
    public void Entries_CountsWhatTheSharedIndicesHold_NotWhatThisSideHasCached()
    {
        // Fill: reserved but unsubmitted entries are not the kernel's yet; submitted ones are until it consumes them.
        using var fillMemory = new RingMemory(8, sizeof(ulong), NearWrap);
        FillRing fill = fillMemory.Fill();
        Assert.Equal(0, fill.Entries);
        Assert.Equal(6, fill.Reserve(6, out _));
        Assert.Equal(0, fill.Entries);
        fill.Submit(6);
        Assert.Equal(6, fill.Entries);
        fillMemory.KernelConsume(4);
        Assert.Equal(2, fill.Entries);

        // RX: peeked entries stay in the ring until released, across the 2^32 wrap.
        using var rxMemory = new RingMemory(8, 16, NearWrap + 12);
        RxRing rx = rxMemory.Rx();
        for (int i = 0; i < 5; i++)
            Assert.True(rxMemory.KernelProduce(new XdpDescriptor { Address = (ulong)i * 4096, Length = 60 }));
        Assert.Equal(5, rx.Entries);
        Assert.Equal(5, rx.Peek(8, out _));
        Assert.Equal(5, rx.Entries);
        rx.Release(3);
        Assert.Equal(2, rx.Entries);
    }

    [Fact]
    public void NeedsWakeup_FollowsKernelFlag()
    {
        using var memory = new RingMemory(8, 16, 0);
        TxRing tx = memory.Tx();
        Assert.False(tx.NeedsWakeup);
        *memory.Flags = 1;  // XDP_RING_NEED_WAKEUP
        Assert.True(tx.NeedsWakeup);
        using var fillMemory = new RingMemory(8, 8, 0);
        FillRing fill = fillMemory.Fill();
        *fillMemory.Flags = 1;
        Assert.True(fill.NeedsWakeup);
    }

    [Fact]
    public void RxRing_Unpeek_ReturnsTheTailToTheNextPeek()
    {
        using var memory = new RingMemory(8, sizeof(XdpDescriptor), start: 3);
        for (uint i = 0; i < 5; i++)
            memory.Descriptors[(3 + i) & 7] = new XdpDescriptor(i * 4096, 60 + i);
        *memory.Producer = 3 + 5;
        RxRing rx = memory.Rx();
        Assert.Equal(5, rx.Peek(8, out uint first));
        rx.Unpeek(3);
        rx.Release(2);
        Assert.Equal(3u + 2, *memory.Consumer);
        Assert.Equal(3, rx.Peek(8, out uint next));
        Assert.Equal(first + 2, next);
        Assert.Equal(62u, rx.Descriptor(next).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => rx.Unpeek(4));
    }

    [Fact]
    public void TxRing_Unreserve_GivesBackTheTailSoTheNextReserveReusesIt()
    {
        using var memory = new RingMemory(8, sizeof(XdpDescriptor), start: 5);
        TxRing tx = memory.Tx();
        Assert.Equal(6, tx.Reserve(6, out uint first));
        tx.Unreserve(2);
        tx.Submit(4);
        Assert.Equal(5u + 4, *memory.Producer);
        // The two given back are reserved again, at the same indexes, and the ring still holds exactly 8.
        Assert.Equal(4, tx.Reserve(10, out uint next));
        Assert.Equal(first + 4, next);
        Assert.Throws<ArgumentOutOfRangeException>(() => tx.Unreserve(5));
    }

    [Fact]
    public void TxRing_ReserveAcross2Pow32_WritesDescriptorsInOrder()
    {
        using var memory = new RingMemory(16, 16, NearWrap + 8);
        TxRing tx = memory.Tx();
        Assert.Equal(16, tx.FreeCount);
        Assert.Equal(16, tx.Reserve(20, out uint index));
        for (uint i = 0; i < 16; i++)
            tx.Descriptor(index + i) = new XdpDescriptor(i * 2048, 60 + i);
        tx.Submit(16);
        Assert.Equal(8u, *memory.Producer);
        Assert.Equal(16, tx.Outstanding);
        for (uint i = 0; i < 16; i++)
        {
            XdpDescriptor d = memory.Descriptors[(NearWrap + 8 + i) & 15];
            Assert.Equal(i * 2048ul, d.Address);
            Assert.Equal(60 + i, d.Length);
        }
    }

    [Fact]
    public void CompletionRing_Empty_PeeksNothing()
    {
        using var memory = new RingMemory(8, sizeof(ulong), NearWrap);
        CompletionRing ring = memory.Completion();
        Assert.Equal(0, ring.Peek(8, out _));
        Assert.Equal(0, ring.Available);
    }

    [Fact]
    public void CompletionRing_PeekAcross2Pow32_ReturnsKernelOrderAndReleases()
    {
        using var memory = new RingMemory(16, sizeof(ulong), NearWrap + 4);
        CompletionRing ring = memory.Completion();
        for (ulong i = 0; i < 16; i++)
            Assert.True(memory.KernelProduce(i * 4096));
        Assert.False(memory.KernelProduce(99));     // full

        Assert.Equal(10, ring.Peek(10, out uint index));
        Assert.Equal(6, ring.Peek(10, out uint index2));
        Assert.Equal(index + 10, index2);
        for (uint i = 0; i < 10; i++)
            Assert.Equal(i * 4096ul, ring[index + i]);
        for (uint i = 0; i < 6; i++)
            Assert.Equal((10 + i) * 4096ul, ring.Address(index2 + i));

        Assert.Equal(NearWrap + 4, *memory.Consumer);   // nothing released yet
        ring.Release(16);
        Assert.Equal(4u, *memory.Consumer);
    }

    [Fact]
    public void RxRing_PeekWrapsAndStopsAtProducer()
    {
        using var memory = new RingMemory(4, 16, uint.MaxValue - 1);
        RxRing rx = memory.Rx();
        memory.KernelProduce(new XdpDescriptor(256, 60));
        memory.KernelProduce(new XdpDescriptor(2048 + 256, 61));
        memory.KernelProduce(new XdpDescriptor(4096 + 256, 62));

        Assert.Equal(3, rx.Peek(64, out uint index));
        Assert.Equal(uint.MaxValue - 1, index);
        Assert.Equal(60u, rx.Descriptor(index).Length);
        Assert.Equal(61u, rx.Descriptor(index + 1).Length);
        Assert.Equal(4096ul + 256, rx.Descriptor(index + 2).Address);
        Assert.Equal(0, rx.Peek(64, out _));
        rx.Release(3);
        Assert.Equal(1u, *memory.Consumer);
    }

    [Fact]
    public void ProducerThenConsumer_RandomBatchesFromAnyStart_DeliverFifo()
    {
        // The application produces into a fill ring; a "kernel" moves entries to a completion ring;
        // the application consumes them. Every address must come out once, in order.
        Gen.Select(Gen.UInt, Gen.Int[1, 40].Array[1, 60]).Sample((start, batches) =>
        {
            using var fillMemory = new RingMemory(32, sizeof(ulong), start);
            using var completionMemory = new RingMemory(32, sizeof(ulong), start ^ 0x8000_0000);
            FillRing fill = fillMemory.Fill();
            CompletionRing completion = completionMemory.Completion();
            ulong next = 0, expected = 0;
            foreach (int batch in batches)
            {
                int n = fill.Reserve(batch, out uint index);
                Assert.True(n <= batch);
                for (int i = 0; i < n; i++)
                    fill[index + (uint)i] = next++;
                fill.Submit(n);

                // Kernel: move what fits from the fill ring to the completion ring.
                while (*fillMemory.Consumer != *fillMemory.Producer)
                {
                    ulong value = fillMemory.Addresses[*fillMemory.Consumer & 31];
                    if (!completionMemory.KernelProduce(value))
                        break;
                    fillMemory.KernelConsume(1);
                }

                int m = completion.Peek(batch / 2 + 1, out uint cIndex);
                for (int i = 0; i < m; i++)
                    Assert.Equal(expected++, completion[cIndex + (uint)i]);
                completion.Release(m);
            }
            Assert.True(expected <= next);
            Assert.Equal(next - expected, (ulong)(*fillMemory.Producer - *fillMemory.Consumer) + (ulong)completion.Available);
        }, iter: 300);
    }

    [Fact]
    public void RingOperations_AllocateNothing()
    {
        using var fillMemory = new RingMemory(64, sizeof(ulong), NearWrap);
        using var rxMemory = new RingMemory(64, 16, NearWrap);
        FillRing fill = fillMemory.Fill();
        RxRing rx = rxMemory.Rx();
        var pool = new FramePool(128, 2048);
        // Warm up so tiering and static constructors are out of the way.
        Cycle(fill, rx, fillMemory, rxMemory, pool, 10);

        Assert.Equal(0, AllocationWindow.Measure(() => Cycle(fill, rx, fillMemory, rxMemory, pool, 10_000)));
        Assert.Equal(128, pool.Available + (int)(*fillMemory.Producer - *fillMemory.Consumer));
    }

    private static void Cycle(FillRing fill, RxRing rx, RingMemory fillMemory, RingMemory rxMemory, FramePool pool, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            int n = fill.Reserve(32, out uint index);
            for (int i = 0; i < n; i++)
            {
                pool.TryGet(out ulong a);
                fill[index + (uint)i] = a;
            }
            fill.Submit(n);
            // Kernel: receive into everything on the fill ring.
            while (*fillMemory.Consumer != *fillMemory.Producer)
            {
                ulong a = fillMemory.Addresses[*fillMemory.Consumer & 63];
                if (!rxMemory.KernelProduce(new XdpDescriptor(a + 256, 64)))
                    break;
                fillMemory.KernelConsume(1);
            }
            int m = rx.Peek(64, out uint rIndex);
            for (int i = 0; i < m; i++)
                pool.Put(rx.Descriptor(rIndex + (uint)i).Address);
            rx.Release(m);
        }
    }

    [Fact]
    public void Constructor_SizeNotPowerOfTwo_Throws()
    {
        using var memory = new RingMemory(16, 16, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RxRing(memory.Producer, memory.Consumer, memory.Descriptors, 12));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FillRing(memory.Producer, memory.Consumer, memory.Flags, memory.Addresses, 0));
    }
}
