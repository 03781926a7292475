namespace XdpStack.Stack.Network.Ipv4;

/// <summary>The ICMP and ICMPv6 error token buckets of one NIC endpoint: one per worker, and one for errors sent from outside the workers.</summary>
/// <remarks>
/// The stack's rate and burst are split across the workers so that no two share a bucket (VPP
/// throttles per thread too); with one worker each bucket is exactly gVisor's 1000/s, burst 50.
/// </remarks>
internal sealed class IcmpErrorBuckets
{
    private readonly IcmpRateLimiter[] _limiters;

    public IcmpErrorBuckets(NetworkStack stack)
    {
        int workers = stack.Workers;
        StackOptions options = stack.Options;
        _limiters = new IcmpRateLimiter[workers + 1];
        for (int w = 0; w <= workers; w++)
            _limiters[w] = new IcmpRateLimiter(stack.Clock, Math.Max(1, options.IcmpErrorsPerSecond / workers), Math.Max(1, options.IcmpErrorBurst / workers));
    }

    /// <summary>Takes a token from <paramref name="worker"/>'s bucket, or from the last one when the caller is no worker (a negative index).</summary>
    public bool TryTake(int worker) => Bucket(worker).TryTake();

    /// <summary>Whether <paramref name="worker"/>'s bucket holds a token, without taking it.</summary>
    public bool HasToken(int worker) => Bucket(worker).HasToken();

    /// <summary>Takes the token <see cref="HasToken"/> saw.</summary>
    public void Consume(int worker) => Bucket(worker).Consume();

    private IcmpRateLimiter Bucket(int worker) => _limiters[worker >= 0 ? worker : _limiters.Length - 1];
}
