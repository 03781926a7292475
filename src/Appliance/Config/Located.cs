namespace XdpStack.Appliance.Config;

/// <summary>A value read from the file with the position it was written at, kept until every check that may cite it has run.</summary>
internal readonly record struct Located<T>(T Value, SourcePosition Position);
