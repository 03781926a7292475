namespace XdpStack.Appliance.Config;

/// <summary>One thing wrong with a config file, at the key or value that has to change.</summary>
/// <param name="File">The path as the user gave it.</param>
/// <param name="Position">Where the offending key, value or table header starts; null when the file itself is the problem.</param>
/// <param name="Message">What is wrong, in one line.</param>
internal sealed record ConfigError(string File, SourcePosition? Position, string Message)
{
    /// <summary><c>FILE:LINE:COLUMN: MESSAGE</c>, the form compilers use, so editors can jump to it.</summary>
    public override string ToString() => Position is { } p ? $"{File}:{p.Line}:{p.Column}: {Message}" : $"{File}: {Message}";
}
