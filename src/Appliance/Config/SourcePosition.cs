using Tomlyn.Syntax;

namespace XdpStack.Appliance.Config;

/// <summary>A line and column in a config file, both counted from 1 as editors and compilers print them.</summary>
internal readonly record struct SourcePosition(int Line, int Column)
{
    /// <summary>The start of the file, for errors that belong to no key.</summary>
    public static SourcePosition FileStart => new(1, 1);

    /// <summary>Converts Tomlyn's zero-based position.</summary>
    public static SourcePosition From(TextPosition position) => new(position.Line + 1, position.Column + 1);

    public override string ToString() => $"{Line}:{Column}";
}
