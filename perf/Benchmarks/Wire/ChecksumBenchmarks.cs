using System.Buffers.Binary;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using XdpStack.Benchmarks.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Benchmarks.Wire;

/// <summary>
/// <see cref="Checksum"/> against the RFC 1071 §4.1 C loop (perf/native/csum_ref.c, the baseline), which this
/// class compiles with gcc -O3 -march=native when it starts and calls through a function pointer, and against tuned
/// C (perf/native/csum_tuned.c): DPDK's rte_raw_cksum and hand-written AVX2 and AVX-512 intrinsics loops.
/// </summary>
/// <remarks>
/// Run: <c>flock -x /tmp/xdpstack-cpu.lock dotnet run -c Release --project perf/Benchmarks -- --filter '*ChecksumBenchmarks*'</c>.
/// The C calls suppress the GC transition, so each costs about as much as a plain native call and
/// the comparison at 20 and 64 bytes is not skewed in the managed code's favour. The data is
/// 64-byte aligned and the same for all. The AVX2 and AVX-512 rows run only where the CPU has AVX2 and
/// AVX-512BW. csum_tuned.c needs DPDK's headers (dpdk-dev).
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public unsafe class ChecksumBenchmarks
{
    private const int BlockBytes = 65536 + 64;

    private static bool s_validated;

    private byte* _block;
    private delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort> _reference;
    private delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort> _dpdk;
    private delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort> _avx2;
    private delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort> _avx512;

    [Params(20, 64, 1500, 9000, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _block = (byte*)NativeMemory.AlignedAlloc(BlockBytes, 64);
        RandomNumberGenerator.Fill(new Span<byte>(_block, BlockBytes));
        nint library = NativeLibrary.Load(NativeReference.Build());
        _reference = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort>)NativeLibrary.GetExport(library, "csum_ref");
        nint tuned = NativeLibrary.Load(DpdkReferenceBuild.EnsureBuilt("csum_tuned"));
        _dpdk = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort>)NativeLibrary.GetExport(tuned, "csum_dpdk");
        // gcc -march=native builds these only for a CPU that has the instructions; Config drops their rows elsewhere.
        if (NativeLibrary.TryGetExport(tuned, "csum_avx2", out nint avx2))
            _avx2 = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort>)avx2;
        if (NativeLibrary.TryGetExport(tuned, "csum_avx512", out nint avx512))
            _avx512 = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort>)avx512;
        if ((Avx2.IsSupported && _avx2 == null) || (Avx512BW.IsSupported && _avx512 == null))
            throw new InvalidOperationException("csum_tuned.so lacks csum_avx2 or csum_avx512 although the CPU has the instructions");
        if (!s_validated)
        {
            Validate();
            s_validated = true;
        }
    }

    // All must compute the same checksum, or the race means nothing: every C function and Checksum.Compute against
    // the plain loop on random data, at every length 0..9001 from an aligned start, at every length 0..2100 from each
    // start offset 1..63, and at 65536 bytes from each start offset 0..63. The C loops sum native-order words, so
    // their result is swapped on a little-endian machine before it is compared with Checksum.Compute.
    private void Validate()
    {
        var tuned = new List<(string Name, nint Function)> { ("rte_raw_cksum", (nint)_dpdk) };
        if (_avx2 != null)
            tuned.Add(("AVX2", (nint)_avx2));
        if (_avx512 != null)
            tuned.Add(("AVX-512", (nint)_avx512));
        int cases = 0;
        for (int offset = 0; offset < 64; offset++)
        {
            int longest = offset == 0 ? 9001 : 2100;
            for (int length = 0; length <= longest; length++)
                Check(offset, length, tuned);
            Check(offset, 65536, tuned);
            cases += longest + 2;
        }
        Console.WriteLine($"// C references validated: {string.Join(", ", tuned.Select(t => t.Name))} and Checksum.Compute "
            + $"equal the RFC 1071 loop in all {cases} cases (lengths 0..9001 aligned, 0..2100 at offsets 1..63, 65536 at 0..63)");
    }

    private void Check(int offset, int length, List<(string Name, nint Function)> tuned)
    {
        byte* data = _block + offset;
        ushort expected = _reference(data, length);
        ushort managed = Checksum.Compute(new ReadOnlySpan<byte>(data, length));
        if (BitConverter.IsLittleEndian)
            managed = BinaryPrimitives.ReverseEndianness(managed);
        if (managed != expected)
            throw new InvalidOperationException($"offset {offset}, length {length}: C loop 0x{expected:x4}, Checksum.Compute 0x{managed:x4} (native order)");
        foreach ((string name, nint function) in tuned)
        {
            ushort c = ((delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort>)function)(data, length);
            if (c != expected)
                throw new InvalidOperationException($"offset {offset}, length {length}: C loop 0x{expected:x4}, {name} 0x{c:x4}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.AlignedFree(_block);

    [Benchmark(Baseline = true, Description = "C RFC 1071 loop")]
    public ushort CReference() => _reference(_block, Size);

    [Benchmark(Description = "C rte_raw_cksum (DPDK)")]
    public ushort CDpdk() => _dpdk(_block, Size);

    [Benchmark(Description = "C AVX2 intrinsics")]
    public ushort CAvx2() => _avx2(_block, Size);

    [Benchmark(Description = "C AVX-512 intrinsics")]
    public ushort CAvx512() => _avx512(_block, Size);

    [Benchmark(Description = "Checksum.Compute")]
    public ushort Compute() => Checksum.Compute(new ReadOnlySpan<byte>(_block, Size));

    // The single paths, to show what the dispatch in Sum chooses between on this machine.
    [Benchmark(Description = "scalar path")]
    public uint Scalar() => Checksum.SumScalar(new ReadOnlySpan<byte>(_block, Size));

    [Benchmark(Description = "Vector128 path")]
    public uint Vector128Path() => Checksum.SumVector128(new ReadOnlySpan<byte>(_block, Size));

    [Benchmark(Description = "Vector256 path")]
    public uint Vector256Path() => Checksum.SumVector256(new ReadOnlySpan<byte>(_block, Size));

    [Benchmark(Description = "Vector512 path")]
    public uint Vector512Path() => Checksum.SumVector512(new ReadOnlySpan<byte>(_block, Size));

    /// <summary>A short job: the figures are ratios taken in one run, not a long statistical study.</summary>
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithWarmupCount(3)
                .WithIterationCount(10)
                .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150)));
            // The hand-written C rows exist only where gcc -march=native could build them.
            AddFilter(new SimpleFilter(b => b.Descriptor.WorkloadMethod.Name switch
            {
                nameof(CAvx2) => Avx2.IsSupported,
                nameof(CAvx512) => Avx512BW.IsSupported,
                _ => true,
            }));
            AddColumn(new ThroughputColumn());
            HideColumns(Column.Error, Column.Median, Column.RatioSD);
            SummaryStyle = BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend);
        }
    }

    /// <summary>GB/s (10^9 bytes per second) from the mean time and the Size parameter.</summary>
    private sealed class ThroughputColumn : IColumn
    {
        public string Id => nameof(ThroughputColumn);
        public string ColumnName => "GB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Throughput in 10^9 bytes per second (Size / Mean)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var statistics = summary[benchmarkCase]?.ResultStatistics;
            object? size = benchmarkCase.Parameters["Size"];
            if (statistics is null || size is not int bytes)
                return "-";
            return (bytes / statistics.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
    }

    /// <summary>Compiles the embedded csum_ref.c once per source version and returns the library path.</summary>
    private static class NativeReference
    {
        public const string Compiler = "gcc";
        public static readonly string[] Flags = ["-O3", "-march=native", "-shared", "-fPIC"];

        public static string Build()
        {
            using Stream resource = Assembly.GetExecutingAssembly().GetManifestResourceStream("csum_ref.c")
                ?? throw new InvalidOperationException("csum_ref.c is not embedded in the benchmark assembly");
            using var memory = new MemoryStream();
            resource.CopyTo(memory);
            byte[] source = memory.ToArray();
            string hash = Convert.ToHexString(SHA256.HashData(source))[..16].ToLowerInvariant();
            string directory = Path.Combine(Path.GetTempPath(), "xdpstack-bench");
            string library = Path.Combine(directory, $"libcsum_ref-{hash}.so");
            string sourcePath = Path.Combine(directory, $"csum_ref-{hash}.c");
            string command = $"{Compiler} {string.Join(' ', Flags)} -o {library} {sourcePath}";
            if (File.Exists(library))
            {
                Console.WriteLine($"// C reference (built earlier by): {command}");
                return library;
            }
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(sourcePath, source);
            // Build under a private name and rename, so a concurrent run never loads half a file.
            string partial = library + "." + Environment.ProcessId;
            var start = new ProcessStartInfo(Compiler) { RedirectStandardError = true };
            foreach (string flag in Flags)
                start.ArgumentList.Add(flag);
            start.ArgumentList.Add("-o");
            start.ArgumentList.Add(partial);
            start.ArgumentList.Add(sourcePath);
            using Process gcc = Process.Start(start) ?? throw new InvalidOperationException("could not start gcc");
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode != 0)
                throw new InvalidOperationException($"{Compiler} {string.Join(' ', Flags)} failed ({gcc.ExitCode}): {errors}");
            File.Move(partial, library, overwrite: true);
            Console.WriteLine($"// C reference: {command}");
            return library;
        }
    }
}
