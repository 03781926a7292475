using System.Runtime.InteropServices;
using XdpStack.Xdp.Tests.Lab;

namespace XdpStack.Xdp.Tests;

public sealed unsafe partial class UmemTests
{
    [Fact]
    public void New_MapsPageAlignedAreaWithAllFramesFree()
    {
        using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 100, Headroom = 64 });
        Assert.Equal(0, (long)umem.Base % Environment.SystemPageSize);
        Assert.Equal(204_800ul, umem.Size);
        Assert.Equal(100, umem.Frames.Capacity);
        Assert.Equal(100, umem.Frames.Available);
        Assert.Equal(64, umem.Headroom);
        Assert.False(umem.IsRegistered);
    }

    [Fact]
    public void GetFrame_WritesLandInTheArea()
    {
        using var umem = new Umem(new UmemOptions { FrameSize = 4096, FrameCount = 4 });
        umem.GetFrame(4096 + 256, 10).Fill(0x5a);
        Assert.Equal(0x5a, umem.Base[4096 + 256]);
        Assert.Equal(0x5a, umem.Base[4096 + 265]);
        Assert.Equal(0, umem.Base[4096 + 266]);
        Assert.Equal(10, umem.GetFrame(new XdpDescriptor(8192, 10)).Length);
        Assert.Equal(4096ul, umem.FrameStart(4096 + 300));
    }

    [Fact]
    public void ReservedFrames_StayOutOfThePoolButInTheArea()
    {
        using var umem = new Umem(new UmemOptions { FrameSize = 4096, FrameCount = 10, ReservedFrames = 3 });
        Assert.Equal(7, umem.Frames.Capacity);
        Assert.Equal(7ul * 4096, umem.ReservedStart);
        var handedOut = new List<ulong>();
        while (umem.Frames.TryGet(out ulong a))
            handedOut.Add(a);
        Assert.All(handedOut, a => Assert.True(a < umem.ReservedStart));
        // The reserved frames are addressable like any other, and the pool refuses them.
        Assert.Equal(3 * 4096, umem.GetFrame(umem.ReservedStart, 3 * 4096).Length);
        Assert.Throws<InvalidOperationException>(() => umem.Frames.Put(umem.ReservedStart));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Umem(new UmemOptions { FrameCount = 4, ReservedFrames = 4 }));
    }

    [Fact]
    public void GetFrame_PastTheEnd_Throws()
    {
        using var umem = new Umem(new UmemOptions { FrameSize = 2048, FrameCount = 2 });
        Assert.Throws<ArgumentOutOfRangeException>(() => umem.GetFrame(4000, 97));
        Assert.Equal(96, umem.GetFrame(4000, 96).Length);
    }

    [Fact]
    public void Dispose_ThenGetFrame_ThrowsObjectDisposed()
    {
        var umem = new Umem(new UmemOptions { FrameCount = 2 });
        umem.Dispose();
        Assert.Throws<ObjectDisposedException>(() => umem.GetFrame(0, 1));
        umem.Dispose();     // twice is fine
    }

    [Theory]
    [InlineData(1024, 16, 0)]
    [InlineData(3000, 16, 0)]
    [InlineData(2048, 0, 0)]
    [InlineData(2048, 16, 2048 - 256)]
    [InlineData(2048, 16, -1)]
    public void New_InvalidOptions_Throws(int frameSize, int frameCount, int headroom)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new Umem(new UmemOptions { FrameSize = frameSize, FrameCount = frameCount, Headroom = headroom }));
    }

    [Fact]
    public void New_HugePagesRequested_UsesThemOrSaysWhyNot()
    {
        using var umem = new Umem(new UmemOptions { FrameSize = 4096, FrameCount = 1024, HugePages = true });
        Assert.True(umem.HugePagesRequested);
        string hugeTotal = File.ReadAllLines("/proc/meminfo").Single(l => l.StartsWith("HugePages_Free:", StringComparison.Ordinal));
        if (umem.UsesHugePages)
        {
            Assert.Null(umem.HugePagesFallbackReason);
            Assert.Equal(0, (long)umem.Base % (2 * 1024 * 1024));
        }
        else
        {
            Assert.Contains("MAP_HUGETLB", umem.HugePagesFallbackReason);
            Assert.Contains("ENOMEM", umem.HugePagesFallbackReason);
        }
        // With no free huge pages the fallback is the only correct outcome.
        if (hugeTotal.EndsWith(" 0", StringComparison.Ordinal))
            Assert.False(umem.UsesHugePages);
        umem.GetFrame(umem.Size - 1, 1)[0] = 1;
    }

    [Fact]
    public void New_NoHugePagesRequested_ReportsNone()
    {
        using var umem = new Umem(new UmemOptions { FrameCount = 8 });
        Assert.False(umem.UsesHugePages);
        Assert.Null(umem.HugePagesFallbackReason);
    }

    [Fact]
    public void MemlockHint_NamesTheLimitsAndTheFixes()
    {
        string hint = Umem.MemlockHint(16 << 20, 8 << 20, ulong.MaxValue);
        Assert.Contains("16777216 bytes", hint);
        Assert.Contains("soft 8388608 bytes, hard unlimited", hint);
        Assert.Contains("ulimit -l", hint);
        Assert.Contains("CAP_IPC_LOCK", hint);
    }

    [Fact]
    [Trait("Category", "Root")]
    public void Register_WithoutIpcLockOverMemlockLimit_ThrowsEnobufsWithAdvice()
    {
        const ulong limit = 8 << 20;
        using var lab = new VethLab();
        Rlimit saved;
        Assert.Equal(0, getrlimit(RLIMIT_MEMLOCK, &saved));
        var lowered = new Rlimit { Cur = Math.Min(saved.Cur, limit), Max = Math.Min(saved.Max, limit) };
        Assert.Equal(0, setrlimit(RLIMIT_MEMLOCK, &lowered));
        Exception? caught = null;
        try
        {
            // Capabilities are per thread: drop CAP_IPC_LOCK from this thread's effective set only.
            var thread = new Thread(() =>
            {
                try
                {
                    DropEffectiveCapability(CAP_IPC_LOCK);
                    using (lab.Local.Enter())
                    {
                        NetDevice device = NetDevice.Open(lab.Link.LocalName);
                        using var umem = new Umem(new UmemOptions { FrameSize = 4096, FrameCount = 4096 });  // 16 MiB
                        XskSocket.Create(device, 0, umem, new XskSocketOptions { FillRingSize = 256 }).Dispose();
                    }
                }
                catch (Exception e)
                {
                    caught = e;
                }
            });
            thread.Start();
            thread.Join();
        }
        finally
        {
            setrlimit(RLIMIT_MEMLOCK, &saved);
        }
        XdpException x = Assert.IsType<XdpException>(caught);
        Assert.Equal("ENOBUFS", x.ErrnoName);
        Assert.StartsWith("setsockopt(XDP_UMEM_REG) failed: ENOBUFS (", x.Message);
        Assert.Contains("RLIMIT_MEMLOCK", x.Message);
        Assert.Contains("CAP_IPC_LOCK", x.Message);
    }

    private const int RLIMIT_MEMLOCK = 8;
    private const int CAP_IPC_LOCK = 14;

    private struct Rlimit
    {
        public ulong Cur;
        public ulong Max;
    }

    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential, Size = 12)]
    private struct CapData
    {
        // Followed by permitted and inheritable, which capget fills and capset writes back unchanged.
        public uint Effective;
    }

    private static void DropEffectiveCapability(int capability)
    {
        var header = new CapHeader { Version = 0x20080522 };   // _LINUX_CAPABILITY_VERSION_3, pid 0: this thread
        CapData* data = stackalloc CapData[2];
        Assert.Equal(0, capget(&header, data));
        data[capability / 32].Effective &= ~(1u << (capability % 32));
        Assert.Equal(0, capset(&header, data));
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, Rlimit* limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, Rlimit* limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int capget(CapHeader* header, CapData* data);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int capset(CapHeader* header, CapData* data);
}
