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
/// <see cref="OneChangeInPlaceAndBuild"/> makes the same change to a builder made with <see cref="ReaderEpochs"/>, which
/// writes the published table in place (each add takes a tbl8 group, each remove retires it); one registered reader
/// quiesces per change, as a worker would per batch, so retired groups come back.
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
    private Ipv4LpmBuilder? _inPlace;
    private ReaderEpoch? _reader;
    private bool _inPlaceExtraPresent;

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
        _inPlace = Fill(readers);
        _inPlace.Build();
        _inPlaceExtraPresent = false;
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

    [Benchmark(Description = "Ipv4LpmBuilder in place: one change, Build()")]
    public Ipv4Lpm OneChangeInPlaceAndBuild()
    {
        if (_inPlaceExtraPresent)
            _inPlace!.Remove(Extra, 32);
        else
            _inPlace!.Add(Extra, 32, 1);
        _inPlaceExtraPresent = !_inPlaceExtraPresent;
        _reader!.Quiesce();
        return _inPlace.Build();
    }

    private Ipv4LpmBuilder Fill(ReaderEpochs? inPlaceReaders = null)
    {
        var builder = new Ipv4LpmBuilder(useHugePages: false, inPlaceReaders);
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
