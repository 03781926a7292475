using XdpStack.Stack.Tests.Wire.Capture;

namespace XdpStack.Fuzz;

/// <summary>What seed corpora are made from: the Linux captures under tests/Stack.Tests/Wire/Data and the example configs in deploy/examples.</summary>
internal sealed class SeedSource
{
    public SeedSource(string repository)
    {
        string captures = Path.Combine(repository, "tests", "Stack.Tests", "Wire", "Data");
        foreach (string path in Directory.GetFiles(captures, "*.pcap").Order(StringComparer.Ordinal))
            Captures[Path.GetFileNameWithoutExtension(path)] = PcapReader.ReadFrames(path);
        foreach (string path in Directory.GetFiles(Path.Combine(repository, "deploy", "examples"), "*.toml").Order(StringComparer.Ordinal))
            Configs.Add(File.ReadAllText(path));
        if (Captures.Count == 0 || Configs.Count == 0)
            throw new InvalidOperationException($"no captures or example configs under {repository}");
    }

    /// <summary>Each capture's frames in order, by file name without extension.</summary>
    public SortedDictionary<string, List<byte[]>> Captures { get; } = new(StringComparer.Ordinal);

    /// <summary>Every captured frame.</summary>
    public IEnumerable<byte[]> Frames => Captures.Values.SelectMany(frames => frames);

    /// <summary>The text of each example config.</summary>
    public List<string> Configs { get; } = [];
}
