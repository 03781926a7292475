using System.Buffers.Binary;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using XdpStack.Stack.Wire;

namespace XdpStack.Benchmarks.Wire;

/// <summary>
/// <see cref="Checksum"/> against the RFC 1071 §4.1 C loop (perf/native/csum_ref.c), which this
/// class compiles with gcc -O3 -march=native when it starts and calls through a function pointer.
/// </summary>
/// <remarks>
/// Run: <c>flock -x /tmp/xdpstack-cpu.lock dotnet run -c Release --project perf/Benchmarks -- --filter '*ChecksumBenchmarks*'</c>.
/// The C call suppresses the GC transition, so it costs about as much as a plain native call and
/// the comparison at 20 and 64 bytes is not skewed in the managed code's favour. The data is
/// 64-byte aligned and the same for both.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public unsafe class ChecksumBenchmarks
{
    private byte* _block;
    private delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort> _reference;

    [Params(20, 64, 1500, 9000, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _block = (byte*)NativeMemory.AlignedAlloc(65536 + 64, 64);
        RandomNumberGenerator.Fill(new Span<byte>(_block, 65536 + 64));
        nint library = NativeLibrary.Load(NativeReference.Build());
        _reference = (delegate* unmanaged[Cdecl, SuppressGCTransition]<byte*, int, ushort>)NativeLibrary.GetExport(library, "csum_ref");

        // Both must compute the same checksum, or the race means nothing. The C loop sums
        // native-order words, so swap its result on a little-endian machine.
        for (int length = 0; length <= 9001; length++)
        {
            ushort c = _reference(_block, length);
            if (BitConverter.IsLittleEndian)
                c = BinaryPrimitives.ReverseEndianness(c);
            ushort managed = Checksum.Compute(new ReadOnlySpan<byte>(_block, length));
            if (c != managed)
                throw new InvalidOperationException($"length {length}: C reference 0x{c:x4}, Checksum 0x{managed:x4}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.AlignedFree(_block);

    [Benchmark(Baseline = true, Description = "C RFC 1071 loop")]
    public ushort CReference() => _reference(_block, Size);

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
