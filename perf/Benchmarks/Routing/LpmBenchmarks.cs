using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using XdpStack.Stack.Routing;

namespace XdpStack.Benchmarks.Routing;

/// <summary>Random IPv4 LPM lookups in XdpStack's Ipv4Lpm against DPDK's rte_lpm (the baseline) on the same rules and addresses.</summary>
/// <remarks>
/// <para>
/// Rules: <see cref="Prefixes"/> distinct random prefixes whose lengths follow DPDK's lpm_perf_autotest distribution
/// (app/test/test_lpm_perf.c, taken from a real router's table: 54% /24, 6% /16, 3.9% longer than /24, 0.02% /8, ...);
/// next hops are random below 2^16. Addresses: 4M uniform random addresses; each invocation looks up the next 4,096 of
/// them, so tbl24 reads mostly miss the caches, as in the autotest's fresh random batches. Results are per lookup.
/// </para>
/// <para>
/// In process, because rte_eal_init may run once per process and an rte_lpm of 10^6 rules takes DPDK a long time to
/// build (its rule table is scanned linearly per add); tables are built once per parameter set. Setup checks that
/// both tables answer every address the same. <see cref="HugePages"/> puts both tables on 2 MiB transparent huge
/// pages: ours is advised MADV_HUGEPAGE before it is filled; for DPDK, whose --no-huge memory is a shared memfd
/// that cannot take THP here, lookups run on a copy of tbl24/tbl8 in MADV_HUGEPAGE memory (lpm_ref.c says why); otherwise both sit on
/// 4 KiB pages, as rte_lpm does under EAL's --no-huge.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class LpmBenchmarks
{
    private const int Batch = 4096;
    private const int PoolSize = 1 << 22;

    // Rules per prefix length 1..32 in DPDK's lpm_perf_autotest (classes A + B + C summed).
    private static readonly int[] s_depthWeights =
    [
        0, 0, 1, 0, 3, 2, 4, 200, 37, 55, 97, 381, 775, 2104, 3712, 69319,
        12983, 23667, 69068, 62354, 48531, 72355, 85427, 583898, 2654, 5650, 6467, 7127, 12936, 5999, 13, 982,
    ];

    private static (int Prefixes, bool HugePages)? s_built;
    private static Ipv4Lpm? s_ours;
    private static RteLpmReference? s_reference;
    private static readonly Dictionary<int, (RteLpmReference Table, uint Tbl8s)> s_references = [];
    private static uint[]? s_pool;

    private readonly int[] _results = new int[Batch];
    private int _cursor;

    // Declared first so that every small-page run comes before any huge-page run: freed tables' memory, once
    // advised, could otherwise be reused by the GC for a later "small-page" table.
    [Params(false, true)]
    public bool HugePages { get; set; }

    [Params(1_000, 100_000, 1_000_000)]
    public int Prefixes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (s_built == (Prefixes, HugePages))
            return;
        s_ours = null;
        GC.Collect();

        var random = new Random(42);
        s_pool ??= Enumerable.Range(0, PoolSize).Select(_ => (uint)random.NextInt64(0, 1L << 32)).ToArray();
        (uint[] prefixes, byte[] lengths, uint[] hops) = Rules(Prefixes, new Random(7));

        var builder = new Ipv4LpmBuilder(useHugePages: HugePages);
        for (int i = 0; i < prefixes.Length; i++)
            builder.Add(prefixes[i], lengths[i], (int)hops[i]);
        s_ours = builder.Build();

        // rte_lpm takes minutes to build 10^6 rules, so each table is built once and serves both page sizes.
        if (!s_references.TryGetValue(Prefixes, out (RteLpmReference Table, uint Tbl8s) reference))
        {
            uint tbl8s = (uint)(s_ours.Tbl8GroupCount + (s_ours.Tbl8GroupCount / 8) + 16);
            var started = System.Diagnostics.Stopwatch.StartNew();
            reference = (new RteLpmReference(prefixes, lengths, hops, tbl8s), tbl8s);
            Console.WriteLine($"// rte_lpm built in {started.Elapsed.TotalSeconds:F1} s");
            s_references[Prefixes] = reference;
        }
        s_reference = reference.Table;
        s_reference.UseHugePages(HugePages, reference.Tbl8s);

        var ours = new int[PoolSize];
        var theirs = new int[PoolSize];
        s_ours.Lookup(s_pool, ours);
        s_reference.LookupX4(s_pool, theirs);
        int agree = ours.AsSpan().CommonPrefixLength(theirs);
        if (agree != PoolSize)
            throw new InvalidOperationException($"Ipv4Lpm and rte_lpm disagree on {s_pool[agree]:X8}: {ours[agree]} vs {theirs[agree]}");
        s_reference.LookupBulk(s_pool, theirs);
        agree = ours.AsSpan().CommonPrefixLength(theirs);
        if (agree != PoolSize)
            throw new InvalidOperationException($"Ipv4Lpm and rte_lpm_lookup_bulk disagree on {s_pool[agree]:X8}: {ours[agree]} vs {theirs[agree]}");
        Console.WriteLine($"// {Prefixes} rules, {s_ours.Tbl8GroupCount} tbl8 groups; Ipv4Lpm {(s_ours.MemoryBytes - ((s_ours.Tbl8Capacity - s_ours.Tbl8GroupCount) * 1024L)) / 1048576.0:F1} MiB in use; " +
            $"rte_lpm about {(((1L << 24) * 4) + ((long)reference.Tbl8s * 1024) + ((long)prefixes.Length * 8)) / 1048576.0:F1} MiB; " +
            $"{ours.Count(r => r >= 0) * 100.0 / PoolSize:F1}% of addresses match; {AnonHugePages()}");
        s_built = (Prefixes, HugePages);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "rte_lpm_lookupx4")]
    public void RteLpmLookupX4() => s_reference!.LookupX4(NextBatch(), _results);

    [Benchmark(OperationsPerInvoke = Batch, Description = "rte_lpm_lookup_bulk")]
    public void RteLpmLookupBulk() => s_reference!.LookupBulk(NextBatch(), _results);

    [Benchmark(OperationsPerInvoke = Batch, Description = "rte_lpm_lookup")]
    public void RteLpmLookup() => s_reference!.Lookup(NextBatch(), _results);

    [Benchmark(OperationsPerInvoke = Batch, Description = "Ipv4Lpm.Lookup(uint)")]
    public int Lookup()
    {
        Ipv4Lpm lpm = s_ours!;
        int sum = 0;
        foreach (uint address in NextBatch())
            sum += lpm.Lookup(address);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "Ipv4Lpm.LookupAvx2(span)")]
    public void LookupBatchAvx2() => s_ours!.LookupAvx2(NextBatch(), _results);

    [Benchmark(OperationsPerInvoke = Batch, Description = "Ipv4Lpm.LookupScalar(span)")]
    public void LookupBatchScalar() => s_ours!.LookupScalar(NextBatch(), _results);

    private ReadOnlySpan<uint> NextBatch()
    {
        int at = _cursor;
        _cursor = (at + Batch) & (PoolSize - 1);
        return s_pool.AsSpan(at, Batch);
    }

    internal static (uint[] Prefixes, byte[] Lengths, uint[] NextHops) Rules(int count, Random random)
    {
        int total = s_depthWeights.Sum();
        var seen = new HashSet<(uint, int)>();
        var prefixes = new uint[count];
        var lengths = new byte[count];
        var hops = new uint[count];
        int n = 0;
        while (n < count)
        {
            int pick = random.Next(total), length = 1;
            while (pick >= s_depthWeights[length - 1])
                pick -= s_depthWeights[length++ - 1];
            uint prefix = (uint)random.NextInt64(0, 1L << 32) & Ipv4LpmBuilder.Mask(length);
            if (!seen.Add((prefix, length)))
                continue;
            prefixes[n] = prefix;
            lengths[n] = (byte)length;
            hops[n] = (uint)random.Next(1 << 16);
            n++;
        }
        return (prefixes, lengths, hops);
    }

    private static string AnonHugePages()
    {
        string? line = File.ReadLines("/proc/self/smaps_rollup").FirstOrDefault(l => l.StartsWith("AnonHugePages:", StringComparison.Ordinal));
        return line is null ? "AnonHugePages unknown" : string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithIterationCount(6).WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess"));
    }
}
