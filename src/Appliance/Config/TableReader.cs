using System.Globalization;
using XdpStack.Appliance.Config.Toml;

namespace XdpStack.Appliance.Config;

/// <summary>
/// Reads the keys of one config table with their types checked, and afterwards reports every key that
/// was never asked for: a misspelt key is an error, never silently a default.
/// </summary>
internal sealed class TableReader
{
    private readonly TomlTable _table;
    private readonly ConfigErrorList _errors;
    private readonly List<string> _asked = [];
    private readonly IReadOnlyDictionary<string, string> _displayNames;

    /// <param name="table">The table to read.</param>
    /// <param name="name">How messages name the table (<c>[[interface]]</c>), or null for the document's top level.</param>
    /// <param name="errors">Where errors go.</param>
    /// <param name="displayNames">How suggestions print some keys (the top level suggests <c>[workers]</c>, not <c>'workers'</c>).</param>
    public TableReader(TomlTable table, string? name, ConfigErrorList errors, IReadOnlyDictionary<string, string>? displayNames = null)
    {
        _table = table;
        Name = name;
        _errors = errors;
        _displayNames = displayNames ?? new Dictionary<string, string>();
    }

    /// <summary>How messages name the table, such as <c>[workers]</c>; null at the top level.</summary>
    public string? Name { get; }

    /// <summary>Where the table starts: its header, or its opening brace when written inline.</summary>
    public SourcePosition Position => _table.Position;

    /// <summary>"in [workers]", or "at the top level": how messages place a key.</summary>
    public string In => Name is null ? "at the top level" : "in " + Name;

    /// <summary>The value of <paramref name="key"/>, or null; marks the key as known either way.</summary>
    public TomlValue? Value(string key)
    {
        _asked.Add(key);
        return _table.Find(key)?.Value;
    }

    public Located<string>? String(string key)
    {
        TomlValue? value = Value(key);
        if (value is TomlString s)
            return new Located<string>(s.Value, s.Position);
        if (value is not null)
            TypeError(key, value, "a string");
        return null;
    }

    /// <summary>The string value of a required key, or null after reporting it missing at the table's start.</summary>
    public Located<string>? RequiredString(string key, string purpose)
    {
        if (_table.Find(key) is null)
        {
            _asked.Add(key);
            _errors.Add(Position, $"{Name} needs '{key}' ({purpose})");
            return null;
        }
        return String(key);
    }

    public Located<bool>? Boolean(string key)
    {
        TomlValue? value = Value(key);
        if (value is TomlBoolean b)
            return new Located<bool>(b.Value, b.Position);
        if (value is not null)
            TypeError(key, value, "true or false");
        return null;
    }

    public bool Boolean(string key, bool defaultValue) => Boolean(key)?.Value ?? defaultValue;

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>; anything else is reported and read as absent.</summary>
    public Located<long>? Integer(string key, long min, long max)
    {
        TomlValue? value = Value(key);
        if (value is TomlInteger i)
        {
            if (i.Value >= min && i.Value <= max)
                return new Located<long>(i.Value, i.Position);
            _errors.Add(i.Position, string.Create(CultureInfo.InvariantCulture, $"'{key}' {In} must be from {min} to {max}, not {i.Value}"));
            return null;
        }
        if (value is not null)
            TypeError(key, value, "an integer");
        return null;
    }

    /// <summary>A string that must be one of <paramref name="choices"/>; returns the index of the choice.</summary>
    public Located<int>? Choice(string key, IReadOnlyList<string> choices)
    {
        Located<string>? text = String(key);
        if (text is not { } t)
            return null;
        for (int i = 0; i < choices.Count; i++)
        {
            if (choices[i] == t.Value)
                return new Located<int>(i, t.Position);
        }
        string? guess = KeySuggestion.Closest(t.Value, choices);
        _errors.Add(t.Position, $"'{key}' {In} must be one of {string.Join(", ", choices.Select(c => $"\"{c}\""))}, not \"{t.Value}\""
            + (guess is null ? "" : $" (did you mean \"{guess}\"?)"));
        return null;
    }

    public TomlArray? Array(string key, string expected)
    {
        TomlValue? value = Value(key);
        if (value is TomlArray a)
            return a;
        if (value is not null)
            TypeError(key, value, expected);
        return null;
    }

    /// <summary>A sub-table, written as a header or inline.</summary>
    public TomlTable? Table(string key)
    {
        TomlValue? value = Value(key);
        if (value is TomlTable t)
            return t;
        if (value is not null)
            TypeError(key, value, $"a table ([{key}] or {{ ... }})");
        return null;
    }

    /// <summary>The elements of an array of tables, written as <c>[[key]]</c> headers or as an array of inline tables.</summary>
    public IReadOnlyList<TomlTable> Tables(string key)
    {
        TomlValue? value = Value(key);
        switch (value)
        {
            case null:
                return [];
            case TomlTableArray array:
                return array.Tables;
            case TomlArray array when array.Items.All(item => item is TomlTable):
                return [.. array.Items.Cast<TomlTable>()];
            case TomlTable:
                _errors.Add(value.Position, $"'{key}' must be an array of tables: write [[{key}]], once per {key}");
                return [];
            default:
                TypeError(key, value, $"an array of tables ([[{key}]])");
                return [];
        }
    }

    public void TypeError(string key, TomlValue value, string expected) =>
        _errors.Add(value.Position, $"'{key}' {In} must be {expected}, not {value.TypeName}");

    /// <summary>Reports every key of the table that no read asked for, with the closest known key as a hint.</summary>
    public void ReportUnknownKeys()
    {
        foreach (TomlEntry entry in _table.Entries)
        {
            if (_asked.Contains(entry.Key))
                continue;
            string? guess = KeySuggestion.Closest(entry.Key, _asked.Distinct());
            string hint = guess is null ? "" : $" (did you mean {_displayNames.GetValueOrDefault(guess, $"'{guess}'")}?)";
            string what = (Name, entry.Value) switch
            {
                (null, TomlTableArray) => $"unknown table [[{entry.Key}]]",
                (null, TomlTable { Origin: TomlTableOrigin.Header }) => $"unknown table [{entry.Key}]",
                _ => $"unknown key '{entry.Key}' {In}",
            };
            _errors.Add(entry.KeyPosition, what + hint);
        }
    }
}
