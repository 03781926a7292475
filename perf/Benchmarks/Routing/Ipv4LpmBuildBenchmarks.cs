using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using XdpStack.Stack.Routing;

namespace XdpStack.Benchmarks.Routing;

/// <summary>What a route change costs the control thread: <see cref="Ipv4LpmBuilder"/> from empty, and one change plus <see cref="Ipv4LpmBuilder.Build"/>.</summary>
/// <remarks>
/// The rules are <see cref="LpmBenchmarks"/>' (DPDK's lpm_perf_autotest length mix, seed 7), on 4 KiB pages. One change
/// after a build copies the published tbl24 (64 MiB) and tbl8 groups into fresh memory (copy-on-write), so
/// <see cref="OneChangeAndBuild"/> is mostly that copy; it alternately adds and removes one /32 that no rule holds.
/// <see cref="OneChangeDoubleBufferedAndBuild"/> makes the same change to a builder made with <see cref="ReaderEpochs"/>,
/// which brings the table published before the last one up to date (the chunks and groups the last change wrote) and
/// changes it. Its one registered reader is offline, as a sleeping worker is, so no change waits for it; a busy
/// worker would add the rest of its current round (microseconds) to the wait, which one thread cannot show.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class Ipv4LpmBuildBenchmarks
{
    // 203.0.113.7/32 (TEST-NET-3): the rule OneChangeAndBuild toggles; Setup checks that no rule is the same.
    private const uint Extra = 0xCB00_7107;

    private (uint[] Prefixes, byte[] Lengths, uint[] NextHops) _rules;
    private Ipv4LpmBuilder? _builder;
    private bool _extraPresent;
    private Ipv4LpmBuilder? _doubleBuffered;
    private ReaderEpoch? _reader;
    private bool _doubleBufferedExtraPresent;

    [Params(1_000, 100_000, 1_000_000)]
    public int Prefixes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _rules = LpmBenchmarks.Rules(Prefixes, new Random(7));
        _builder = Fill();
        if (_builder.TryGetRule(Extra, 32, out _))
            throw new InvalidOperationException("the toggled rule is already in the rule set");
        _builder.Build();
        _extraPresent = false;
        var readers = new ReaderEpochs();
        _reader = readers.Register();
        _reader.GoOffline();
        _doubleBuffered = Fill(readers);
        _doubleBuffered.Build();
        _doubleBufferedExtraPresent = false;
    }

    [Benchmark(Description = "Ipv4LpmBuilder: add every rule, Build()")]
    public Ipv4Lpm AddAllAndBuild() => Fill().Build();

    [Benchmark(Description = "Ipv4LpmBuilder: one change, Build()")]
    public Ipv4Lpm OneChangeAndBuild()
    {
        if (_extraPresent)
            _builder!.Remove(Extra, 32);
        else
            _builder!.Add(Extra, 32, 1);
        _extraPresent = !_extraPresent;
        return _builder.Build();
    }

    [Benchmark(Description = "Ipv4LpmBuilder double-buffered: one change, Build()")]
    public Ipv4Lpm OneChangeDoubleBufferedAndBuild()
    {
        if (_doubleBufferedExtraPresent)
            _doubleBuffered!.Remove(Extra, 32);
        else
            _doubleBuffered!.Add(Extra, 32, 1);
        _doubleBufferedExtraPresent = !_doubleBufferedExtraPresent;
        return _doubleBuffered.Build();
    }

    private Ipv4LpmBuilder Fill(ReaderEpochs? readers = null)
    {
        var builder = new Ipv4LpmBuilder(useHugePages: false, readers);
        (uint[] prefixes, byte[] lengths, uint[] hops) = _rules;
        for (int i = 0; i < prefixes.Length; i++)
            builder.Add(prefixes[i], lengths[i], (int)hops[i]);
        return builder;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithIterationCount(6).WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess"));
    }
}
