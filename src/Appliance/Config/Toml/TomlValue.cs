namespace XdpStack.Appliance.Config.Toml;

/// <summary>A TOML value with the position it was written at: the small tree the config binder reads.</summary>
/// <remarks>
/// Tomlyn's syntax tree keeps positions but not TOML's meaning (dotted keys, table headers that
/// extend earlier tables); its model tables have the meaning but no positions. This tree has both.
/// </remarks>
internal abstract class TomlValue
{
    protected TomlValue(SourcePosition position)
    {
        Position = position;
    }

    /// <summary>Where the value starts; for a table made by a header, where the header starts.</summary>
    public SourcePosition Position { get; }

    /// <summary>The TOML type with its article, for messages: "a string", "an integer".</summary>
    public abstract string TypeName { get; }
}

/// <summary>A TOML string.</summary>
internal sealed class TomlString(string value, SourcePosition position) : TomlValue(position)
{
    public string Value { get; } = value;

    public override string TypeName => "a string";
}

/// <summary>A TOML integer (64-bit signed).</summary>
internal sealed class TomlInteger(long value, SourcePosition position) : TomlValue(position)
{
    public long Value { get; } = value;

    public override string TypeName => "an integer";
}

/// <summary>A TOML float; no key of the config takes one, so only its type matters.</summary>
internal sealed class TomlFloat(double value, SourcePosition position) : TomlValue(position)
{
    public double Value { get; } = value;

    public override string TypeName => "a float";
}

/// <summary>A TOML boolean.</summary>
internal sealed class TomlBoolean(bool value, SourcePosition position) : TomlValue(position)
{
    public bool Value { get; } = value;

    public override string TypeName => "a boolean";
}

/// <summary>A TOML date, time or date-time; no key of the config takes one.</summary>
internal sealed class TomlDateTime(SourcePosition position) : TomlValue(position)
{
    public override string TypeName => "a date-time";
}

/// <summary>A TOML array written with brackets.</summary>
internal sealed class TomlArray(IReadOnlyList<TomlValue> items, SourcePosition position) : TomlValue(position)
{
    public IReadOnlyList<TomlValue> Items { get; } = items;

    public override string TypeName => "an array";
}
