using CsCheck;

namespace XdpStack.Xdp.Tests;

public sealed class FramePoolTests
{
    [Fact]
    public void New_HoldsEveryFrameOnce()
    {
        var pool = new FramePool(8, 2048);
        var seen = new HashSet<ulong>();
        while (pool.TryGet(out ulong a))
            Assert.True(seen.Add(a));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (ulong)i * 2048).ToHashSet(), seen);
        Assert.Equal(0, pool.Available);
        Assert.False(pool.TryGet(out _));
    }

    [Fact]
    public void Put_AddressInsideFrame_ReturnsFrameStart()
    {
        var pool = new FramePool(4, 4096);
        for (int i = 0; i < 4; i++)
            pool.TryGet(out _);
        pool.Put(3 * 4096 + 256 + 17);
        Assert.True(pool.TryGet(out ulong a));
        Assert.Equal(3 * 4096ul, a);
    }

    [Fact]
    public void Put_WhenFull_ThrowsDoubleFree()
    {
        var pool = new FramePool(2, 2048);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => pool.Put(0));
        Assert.Contains("returned twice", e.Message);
    }

    [Fact]
    public void Put_OutsideArea_Throws()
    {
        var pool = new FramePool(2, 2048);
        pool.TryGet(out _);
        Assert.Throws<InvalidOperationException>(() => pool.Put(4096));
    }

    [Fact]
    public void GetAndPut_RandomSequence_ConservesFrames()
    {
        Gen.Int[-20, 20].Array[1, 100].Sample(steps =>
        {
            var pool = new FramePool(64, 2048);
            var out_ = new Stack<ulong>();
            Span<ulong> batch = stackalloc ulong[20];
            foreach (int step in steps)
            {
                if (step >= 0)
                {
                    int n = pool.TryGet(batch[..step]);
                    Assert.Equal(Math.Min(step, 64 - out_.Count), n);
                    for (int i = 0; i < n; i++)
                        out_.Push(batch[i]);
                }
                else
                {
                    for (int i = 0; i < -step && out_.Count > 0; i++)
                        pool.Put(out_.Pop() + (ulong)i);   // any address inside the frame
                }
                Assert.Equal(64, pool.Available + out_.Count);
                Assert.Equal(out_.Count, out_.Distinct().Count());
            }
        });
    }
}
