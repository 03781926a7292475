namespace XdpStack.Stack.Network.Ipv4;

/// <summary>A token bucket for ICMP errors (gVisor <c>icmpRateLimiter</c>: 1000 per second, burst 50), one per worker.</summary>
/// <remarks>Only its worker touches it, so it needs no synchronisation; time comes from the stack's <see cref="IClock"/>.</remarks>
internal sealed class IcmpRateLimiter
{
    private readonly IClock _clock;
    private readonly double _perSecond;
    private readonly int _burst;
    private double _tokens;
    private TimeSpan _last;

    public IcmpRateLimiter(IClock clock, int perSecond, int burst)
    {
        _clock = clock;
        _perSecond = perSecond;
        _burst = burst;
        _tokens = burst;
        _last = clock.Now;
    }

    /// <summary>Takes a token if one is left after refilling for the time since the last call.</summary>
    public bool TryTake()
    {
        if (!HasToken())
            return false;
        _tokens -= 1;
        return true;
    }

    /// <summary>Refills for the time since the last call and says whether a token is left, without taking it (Linux checks the host-wide limit first and consumes only once the per-destination limit allowed the error).</summary>
    public bool HasToken()
    {
        TimeSpan now = _clock.Now;
        double elapsed = (now - _last).TotalSeconds;
        _last = now;
        if (elapsed > 0)
            _tokens = Math.Min(_burst, _tokens + (elapsed * _perSecond));
        return _tokens >= 1;
    }

    /// <summary>Takes the token <see cref="HasToken"/> saw.</summary>
    public void Consume() => _tokens = Math.Max(0, _tokens - 1);
}
