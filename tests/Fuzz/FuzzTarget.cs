namespace XdpStack.Fuzz;

/// <summary>One fuzz target: code under test driven by arbitrary octets, and the seeds it starts from.</summary>
/// <remarks>
/// A crash is any exception escaping <see cref="Run"/>: bad input must be counted and dropped, never thrown, so an
/// exception from the code under test is a bug, and so is a <see cref="FuzzCheckException"/> from a property the
/// target checks (a round trip, the fast path against the full stack). A run must depend on its input only: targets
/// that keep state between runs reset it first, so a saved crash replays alone.
/// </remarks>
internal abstract class FuzzTarget
{
    /// <summary>The name fuzz/run.sh and the command line take.</summary>
    public abstract string Name { get; }

    /// <summary>One line: what the target runs and checks.</summary>
    public abstract string Covers { get; }

    /// <summary>The largest input worth trying (libFuzzer's -max_len).</summary>
    public virtual int MaxLength => 2048;

    public abstract void Run(ReadOnlySpan<byte> input);

    public abstract IEnumerable<byte[]> Seeds(SeedSource source);
}
