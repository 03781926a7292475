namespace XdpStack.Appliance.Config;

/// <summary>Collects every error of one load, so a user fixes a file in one round instead of one error per run.</summary>
internal sealed class ConfigErrorList
{
    private readonly List<ConfigError> _errors = [];

    public ConfigErrorList(string file)
    {
        File = file;
    }

    public string File { get; }

    public int Count => _errors.Count;

    public void Add(SourcePosition position, string message) =>
        _errors.Add(new ConfigError(File, position, message.ReplaceLineEndings(" ")));

    /// <summary>The errors in file order; errors at one position keep the order they were found in.</summary>
    public IReadOnlyList<ConfigError> Sorted() =>
        [.. _errors.OrderBy(e => e.Position?.Line ?? 0).ThenBy(e => e.Position?.Column ?? 0)];
}
