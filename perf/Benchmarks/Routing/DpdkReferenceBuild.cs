using System.Diagnostics;

namespace XdpStack.Benchmarks.Routing;

/// <summary>
/// Builds the C references under perf/native that link DPDK into shared libraries, once, and
/// again only when their source is newer than the library.
/// </summary>
internal static class DpdkReferenceBuild
{
    /// <summary>Returns the path of <c>perf/native/build/NAME.so</c>, compiling <c>perf/native/NAME.c</c> first when needed.</summary>
    public static string EnsureBuilt(string name)
    {
        string source = FindSource(name + ".c");
        string directory = Path.GetDirectoryName(source)!;
        string output = Path.Combine(directory, "build", name + ".so");
        // The references share headers next to them (EAL start-up, the huge-page copy), so a newer header counts too.
        DateTime newestInput = Directory.EnumerateFiles(directory, "*.h").Append(source).Max(File.GetLastWriteTimeUtc);
        if (!File.Exists(output) || File.GetLastWriteTimeUtc(output) < newestInput)
            Compile(source, output);
        return output;
    }

    private static string FindSource(string fileName)
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, "perf", "native", fileName);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"perf/native/{fileName} not found above " + AppContext.BaseDirectory);
    }

    private static void Compile(string source, string output)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        // -march=native comes after pkg-config's own -march so that it wins.
        string command = $"gcc -O3 $(pkg-config --cflags libdpdk) -march=native -shared -fPIC -o '{output}' '{source}' $(pkg-config --libs libdpdk)";
        using var gcc = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardError = true })!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0)
            throw new InvalidOperationException($"{command} failed ({gcc.ExitCode}); is dpdk-dev installed? {errors}");
    }
}
