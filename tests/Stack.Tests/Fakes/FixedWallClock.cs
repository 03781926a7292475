namespace XdpStack.Stack.Tests.Fakes;

/// <summary>A <see cref="TimeProvider"/> whose wall-clock time stands still until a test sets it, for the IPv4 Timestamp option.</summary>
internal sealed class FixedWallClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
