namespace XdpStack.Fuzz.Router;

/// <summary>A wall clock that stands still, so IPv4 Timestamp options get the same value in every run.</summary>
internal sealed class FixedWallClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
