namespace XdpStack.Appliance.Config.Toml;

/// <summary>A TOML table: keys in the order written, each with the position of the key itself.</summary>
internal sealed class TomlTable : TomlValue
{
    private readonly List<TomlEntry> _entries = [];
    private readonly Dictionary<string, TomlEntry> _byKey = new(StringComparer.Ordinal);

    public TomlTable(SourcePosition position, TomlTableOrigin origin) : base(position)
    {
        Origin = origin;
    }

    /// <summary>How the table came to be; a header may still turn an implicit table into a defined one.</summary>
    public TomlTableOrigin Origin { get; set; }

    public IReadOnlyList<TomlEntry> Entries => _entries;

    public override string TypeName => "a table";

    public TomlEntry? Find(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>Adds a key; false when the table has it already.</summary>
    public bool TryAdd(TomlEntry entry)
    {
        if (!_byKey.TryAdd(entry.Key, entry))
            return false;
        _entries.Add(entry);
        return true;
    }
}

/// <summary>One key of a table and its value.</summary>
/// <param name="Key">The key, unquoted; a dotted key is stored as nested tables, one part per level.</param>
/// <param name="KeyPosition">Where the key (or the table header that made the entry) starts.</param>
/// <param name="Value">The value.</param>
internal sealed record TomlEntry(string Key, SourcePosition KeyPosition, TomlValue Value);

/// <summary>Where a table came from, which decides whether a later header or dotted key may add to it (TOML 1.0 §Table).</summary>
internal enum TomlTableOrigin
{
    /// <summary>The document itself.</summary>
    Root,

    /// <summary>Made by a <c>[header]</c> or one element of <c>[[header]]</c>.</summary>
    Header,

    /// <summary>Made on the way to a deeper key (<c>a.b = 1</c> or <c>[a.b]</c> makes <c>a</c>).</summary>
    Implicit,

    /// <summary>Written inline as <c>{ ... }</c>; closed once written.</summary>
    Inline,
}
