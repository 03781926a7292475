namespace XdpStack.Appliance.Config.Toml;

/// <summary>An array of tables made by <c>[[header]]</c> lines, one element per header.</summary>
internal sealed class TomlTableArray(SourcePosition position) : TomlValue(position)
{
    private readonly List<TomlTable> _tables = [];

    public IReadOnlyList<TomlTable> Tables => _tables;

    public override string TypeName => "an array of tables";

    public void Add(TomlTable table) => _tables.Add(table);
}
