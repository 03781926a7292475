using SharpFuzz;
using XdpStack.Fuzz;

// XdpStack.Fuzz TARGET                    under libfuzzer-dotnet (fuzz/run.sh): runs every input libFuzzer sends
// XdpStack.Fuzz TARGET FILE|DIR...        runs the target once on each file, to replay a crash or check a corpus
// XdpStack.Fuzz --list                    the targets, one a line: name, largest useful input, what it covers
// XdpStack.Fuzz --seeds REPO OUT          writes each target's seed corpus to OUT/TARGET, from REPO's captures and examples
// Until libFuzzer's shared memory replaces it, instrumented code (target set-up, --list, replays) counts into a local map.
CoverageSink.AttachLocal();
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: XdpStack.Fuzz TARGET [FILE|DIR...] | --list | --seeds REPO OUT");
    return 2;
}
if (args[0] == "--list")
{
    foreach (FuzzTarget t in FuzzTargets.All)
        Console.WriteLine($"{t.Name,-16} {t.MaxLength,5} {t.Covers}");
    return 0;
}
if (args[0] == "--seeds" && args.Length == 3)
{
    var source = new SeedSource(args[1]);
    foreach (FuzzTarget t in FuzzTargets.All)
    {
        string dir = Path.Combine(args[2], t.Name);
        Directory.CreateDirectory(dir);
        int n = 0;
        foreach (byte[] seed in t.Seeds(source))
            File.WriteAllBytes(Path.Combine(dir, $"seed-{n++:D4}"), seed);
        Console.WriteLine($"{t.Name}: {n} seeds");
    }
    return 0;
}
FuzzTarget? target = FuzzTargets.Find(args[0]);
if (target is null)
{
    Console.Error.WriteLine($"unknown target '{args[0]}'; --list shows them");
    return 2;
}
if (args.Length == 1 && Environment.GetEnvironmentVariable("__LIBFUZZER_SHM_ID") is not null)
{
    // An exception escaping Run is reported as a crash; so is a FuzzCheckException (a property that failed).
    Fuzzer.LibFuzzer.Run(input => target.Run(input));
    return 0;
}
if (args.Length == 1)
{
    Console.Error.WriteLine("give input files, or run under libfuzzer-dotnet (fuzz/run.sh)");
    return 2;
}
var files = args.Skip(1).SelectMany(a => Directory.Exists(a) ? Directory.GetFiles(a).Order(StringComparer.Ordinal) : (IEnumerable<string>)[a]).ToList();
foreach (string file in files)
{
    try
    {
        target.Run(File.ReadAllBytes(file));
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"{file}: {e}");
        return 1;
    }
}
Console.WriteLine($"{target.Name}: {files.Count} inputs, no crash");
return 0;
