using Tomlyn;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace XdpStack.Appliance.Config.Toml;

/// <summary>Parses TOML with Tomlyn and resolves its syntax tree into tables that keep every key's position.</summary>
internal static class TomlTreeBuilder
{
    /// <summary>
    /// Returns the document's root table, or null after adding every syntax error Tomlyn found (with
    /// its position) to <paramref name="errors"/>.
    /// </summary>
    public static TomlTable? Parse(string text, ConfigErrorList errors)
    {
        // validate: true also runs Tomlyn's semantic pass, which rejects keys and tables defined
        // twice; the resolution below relies on that and only guards against what slips through.
        DocumentSyntax document;
        try
        {
            document = SyntaxParser.Parse(text, errors.File, validate: true);
        }
        catch (ArgumentOutOfRangeException)
        {
            // Tomlyn 2.10.2's lexer throws while describing an escape sequence cut off by the end of the file
            // (`x = "\` as the last characters: it formats the end-of-file marker as a character). Found by the
            // config fuzz target; reported here as the syntax error it is.
            errors.Add(EndOf(text), text.EndsWith('\\')
                ? "the file ends inside an escape sequence (a backslash is its last character)"
                : "the TOML parser failed on this file");
            return null;
        }
        catch (TomlException e)
        {
            // Tomlyn 2.10.2 throws for some errors instead of reporting them: arrays or inline tables nested deeper
            // than its limit of 64 (found by the config fuzz target; its own message advises a setting of its API).
            string message = e.Message.Contains("maximum depth", StringComparison.Ordinal)
                ? "arrays or inline tables nest deeper than 64 levels"
                : e.Message.ReplaceLineEndings(" ");
            errors.Add(e.Line is int line && e.Column is int column && line >= 1 && column >= 1 ? new SourcePosition(line, column) : EndOf(text), message);
            return null;
        }
        if (document.HasErrors)
        {
            foreach (DiagnosticMessage diagnostic in document.Diagnostics)
            {
                if (diagnostic.Kind == DiagnosticMessageKind.Error)
                    errors.Add(SourcePosition.From(diagnostic.Span.Start), diagnostic.Message.Replace('␤', ' '));
            }
            return null;
        }

        int before = errors.Count;
        var root = new TomlTable(SourcePosition.FileStart, TomlTableOrigin.Root);
        AddKeyValues(root, document.KeyValues, errors);
        foreach (TableSyntaxBase header in document.Tables)
        {
            TomlTable? target = OpenHeader(root, header, errors);
            if (target is not null)
                AddKeyValues(target, header.Items, errors);
        }
        return errors.Count == before ? root : null;
    }

    private static SourcePosition EndOf(string text)
    {
        int lastLine = text.LastIndexOf('\n');
        return new SourcePosition(text.Count(c => c == '\n') + 1, text.Length - lastLine);
    }

    private static void AddKeyValues(TomlTable table, SyntaxList<KeyValueSyntax> keyValues, ConfigErrorList errors)
    {
        foreach (KeyValueSyntax keyValue in keyValues)
            AddKeyValue(table, keyValue, errors);
    }

    private static void AddKeyValue(TomlTable table, KeyValueSyntax keyValue, ConfigErrorList errors)
    {
        List<Located<string>> parts = KeyParts(keyValue.Key!);
        TomlTable? target = table;
        for (int i = 0; i < parts.Count - 1 && target is not null; i++)
            target = Descend(target, parts[i], allowArray: false, errors);
        if (target is null)
            return;
        Located<string> last = parts[^1];
        if (!target.TryAdd(new TomlEntry(last.Value, last.Position, Convert(keyValue.Value!, errors))))
            errors.Add(last.Position, $"key '{last.Value}' is defined twice");
    }

    private static TomlTable? OpenHeader(TomlTable root, TableSyntaxBase header, ConfigErrorList errors)
    {
        List<Located<string>> parts = KeyParts(header.Name!);
        TomlTable? parent = root;
        for (int i = 0; i < parts.Count - 1 && parent is not null; i++)
            parent = Descend(parent, parts[i], allowArray: true, errors);
        if (parent is null)
            return null;

        string name = parts[^1].Value;
        var position = SourcePosition.From(header.Span.Start);
        TomlEntry? existing = parent.Find(name);
        if (header is TableArraySyntax)
        {
            TomlTableArray array;
            if (existing is null)
            {
                array = new TomlTableArray(position);
                parent.TryAdd(new TomlEntry(name, position, array));
            }
            else if (existing.Value is TomlTableArray defined)
            {
                array = defined;
            }
            else
            {
                errors.Add(position, $"[[{name}]] conflicts with '{name}' defined at {existing.KeyPosition}");
                return null;
            }
            var element = new TomlTable(position, TomlTableOrigin.Header);
            array.Add(element);
            return element;
        }

        if (existing is null)
        {
            var table = new TomlTable(position, TomlTableOrigin.Header);
            parent.TryAdd(new TomlEntry(name, position, table));
            return table;
        }
        if (existing.Value is TomlTable { Origin: TomlTableOrigin.Implicit } implicitTable)
        {
            implicitTable.Origin = TomlTableOrigin.Header;
            return implicitTable;
        }
        errors.Add(position, $"[{name}] conflicts with '{name}' defined at {existing.KeyPosition}");
        return null;
    }

    /// <summary>Steps into the table named by one part of a dotted key or header, making it when it is new.</summary>
    private static TomlTable? Descend(TomlTable table, Located<string> part, bool allowArray, ConfigErrorList errors)
    {
        TomlEntry? entry = table.Find(part.Value);
        if (entry is null)
        {
            var created = new TomlTable(part.Position, TomlTableOrigin.Implicit);
            table.TryAdd(new TomlEntry(part.Value, part.Position, created));
            return created;
        }
        switch (entry.Value)
        {
            case TomlTable { Origin: not TomlTableOrigin.Inline } existing:
                return existing;
            case TomlTableArray { Tables.Count: > 0 } array when allowArray:
                // [a.b] after [[a]] adds to the last element of a (TOML 1.0, "Array of Tables").
                return array.Tables[^1];
            default:
                errors.Add(part.Position, $"'{part.Value}' is {entry.Value.TypeName} (defined at {entry.KeyPosition}), so it cannot hold keys");
                return null;
        }
    }

    private static TomlValue Convert(ValueSyntax value, ConfigErrorList errors)
    {
        var position = SourcePosition.From(value.Span.Start);
        switch (value)
        {
            case StringValueSyntax s:
                return new TomlString(s.Value ?? "", position);
            case IntegerValueSyntax i:
                return new TomlInteger(i.Value, position);
            case FloatValueSyntax f:
                return new TomlFloat(f.Value, position);
            case BooleanValueSyntax b:
                return new TomlBoolean(b.Value, position);
            case DateTimeValueSyntax:
                return new TomlDateTime(position);
            case ArraySyntax array:
                var items = new List<TomlValue>();
                foreach (ArrayItemSyntax item in array.Items)
                    items.Add(Convert(item.Value!, errors));
                return new TomlArray(items, position);
            case InlineTableSyntax inline:
                var table = new TomlTable(position, TomlTableOrigin.Inline);
                foreach (InlineTableItemSyntax item in inline.Items)
                    AddKeyValue(table, item.KeyValue!, errors);
                return table;
            default:
                throw new InvalidOperationException($"Tomlyn produced an unexpected value node {value.GetType().Name}");
        }
    }

    private static List<Located<string>> KeyParts(KeySyntax key)
    {
        var parts = new List<Located<string>> { Part(key.Key!) };
        if (key.DotKeys is not null)
        {
            foreach (DottedKeyItemSyntax dotted in key.DotKeys)
                parts.Add(Part(dotted.Key!));
        }
        return parts;
    }

    private static Located<string> Part(BareKeyOrStringValueSyntax key) => key switch
    {
        BareKeySyntax bare => new(bare.Key?.Text ?? "", SourcePosition.From(bare.Span.Start)),
        StringValueSyntax quoted => new(quoted.Value ?? "", SourcePosition.From(quoted.Span.Start)),
        _ => throw new InvalidOperationException($"Tomlyn produced an unexpected key node {key.GetType().Name}"),
    };
}
