using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Neighbors;

public sealed partial class NeighborCache<TAddress>
{
    /// <summary>One neighbor. Fields marked "worker" are read without the lock; the rest belong to the cache lock.</summary>
    private sealed class Entry(TAddress address)
    {
        public readonly TAddress Address = address;

        // Worker: read lock-free. Written under the lock, LinkAddress before Usable (volatile publication order).
        public volatile bool Usable;
        public volatile NeighborState State;
        public ulong LinkAddress;

        // Worker: stamped racily with the cache epoch on use; a lost update only makes LRU a little less exact.
        public long LastUsed;

        // Lock.
        public bool Removed;
        public bool Flushing;
        public int ProbesSent;
        public int TimerGeneration;
        public IClockTimer? Timer;
        public Queue<PendingPacket>? Queue;

        public override string ToString() => $"{Address} {new MacAddress(LinkAddress)} {State}";
    }

    /// <summary>A packet copied out of its frame into a pooled buffer while it waits for resolution.</summary>
    private readonly record struct PendingPacket(byte[] Buffer, int Length, int Tag)
    {
        public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);
    }
}
