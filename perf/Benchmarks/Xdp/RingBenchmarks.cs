using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using XdpStack.Xdp;

namespace XdpStack.Benchmarks.Xdp;

/// <summary>
/// Cost per frame of the ring operations a worker does, over plain memory with the "kernel" side
/// reduced to one index store per batch: fill (reserve, write address, submit) and RX (peek, read
/// descriptor, return the frame to the pool, release).
/// </summary>
/// <remarks>
/// A best case, not an upper bound: both sides run on one core, so the ring memory stays in its L1 and no cache line
/// moves between cores as it does when the kernel works the rings from another CPU.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public unsafe class RingBenchmarks
{
    /// <summary>Short in-process runs: the generated-project toolchain fights the repository's build settings.</summary>
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess"));
    }

    private const int Rounds = 1024;
    private byte* _block;
    private uint* _fillProducer, _fillConsumer, _rxProducer, _rxConsumer;
    private FillRing _fill = null!;
    private RxRing _rx = null!;
    private FramePool _pool = null!;

    [Params(32, 256)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        const uint size = 2048;
        _block = (byte*)NativeMemory.AlignedAlloc(4096 + size * 8 + size * 16, 64);
        NativeMemory.Clear(_block, 4096 + size * 8 + size * 16);
        _fillProducer = (uint*)_block;
        _fillConsumer = (uint*)(_block + 64);
        _rxProducer = (uint*)(_block + 128);
        _rxConsumer = (uint*)(_block + 192);
        var descriptors = (XdpDescriptor*)(_block + 4096 + size * 8);
        for (int i = 0; i < size; i++)
            descriptors[i] = new XdpDescriptor((ulong)i * 2048 + 256, 60);
        _fill = new FillRing(_fillProducer, _fillConsumer, (uint*)(_block + 256), (ulong*)(_block + 4096), size);
        _rx = new RxRing(_rxProducer, _rxConsumer, descriptors, size);
        _pool = new FramePool(4096, 2048);
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.AlignedFree(_block);

    [Benchmark(OperationsPerInvoke = Rounds * 256)]
    public ulong FillFromPool_PerFrame()
    {
        ulong sum = 0;
        int perRound = 256 / Batch;
        for (int r = 0; r < Rounds; r++)
        {
            for (int b = 0; b < perRound; b++)
            {
                int n = _fill.Reserve(Batch, out uint index);
                for (int i = 0; i < n; i++)
                {
                    _pool.TryGet(out ulong address);
                    _fill[index + (uint)i] = address;
                    sum += address;
                }
                _fill.Submit(n);
            }
            // The "kernel" consumes everything, and the frames come home.
            Volatile.Write(ref *_fillConsumer, Volatile.Read(ref *_fillProducer));
            for (int i = 0; i < 256; i++)
                _pool.Put((ulong)i * 2048);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Rounds * 256)]
    public ulong RxToPool_PerFrame()
    {
        ulong sum = 0;
        int perRound = 256 / Batch;
        for (int r = 0; r < Rounds; r++)
        {
            // The "kernel" produces 256 descriptors.
            Volatile.Write(ref *_rxProducer, *_rxProducer + 256);
            for (int i = 0; i < 256; i++)
                _pool.TryGet(out _);
            for (int b = 0; b < perRound; b++)
            {
                int n = _rx.Peek(Batch, out uint index);
                for (int i = 0; i < n; i++)
                {
                    ref readonly XdpDescriptor d = ref _rx.Descriptor(index + (uint)i);
                    sum += d.Length;
                    _pool.Put(d.Address);
                }
                _rx.Release(n);
            }
        }
        return sum;
    }
}
