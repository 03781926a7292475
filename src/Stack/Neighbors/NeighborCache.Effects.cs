using System.Buffers;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Neighbors;

public sealed partial class NeighborCache<TAddress>
{
    /// <summary>Handler calls collected under the lock and made after it is released, so handlers may re-enter the cache.</summary>
    private struct Effects
    {
        private List<(TAddress Target, MacAddress UnicastTo)>? _probes;
        private List<(TAddress Neighbor, PendingPacket Packet, PendingFailure Reason)>? _failures;
        private List<Entry>? _flushes;

        public void Probe(TAddress target, MacAddress unicastTo) => (_probes ??= []).Add((target, unicastTo));

        public void Fail(TAddress neighbor, PendingPacket packet, PendingFailure reason) => (_failures ??= []).Add((neighbor, packet, reason));

        public void Flush(Entry entry) => (_flushes ??= []).Add(entry);

        public readonly void Run(NeighborCache<TAddress> cache) => Run(cache, NicStats.ControlWorker);

        /// <param name="cache">The cache.</param>
        /// <param name="worker">The thread making the calls, as a stack worker index (or <see cref="NicStats.ControlWorker"/>): flushed packets leave through it, in line with what it sends next.</param>
        public readonly void Run(NeighborCache<TAddress> cache, int worker)
        {
            if (_failures is not null)
            {
                try
                {
                    foreach ((TAddress neighbor, PendingPacket packet, PendingFailure reason) in _failures)
                        cache._handler.PendingFailed(neighbor, packet.Span, packet.Tag, reason);
                }
                finally
                {
                    foreach ((_, PendingPacket packet, _) in _failures)
                        ArrayPool<byte>.Shared.Return(packet.Buffer);
                }
            }
            if (_probes is not null)
            {
                foreach ((TAddress target, MacAddress unicastTo) in _probes)
                    cache._handler.SendProbe(target, unicastTo);
            }
            if (_flushes is not null)
            {
                foreach (Entry entry in _flushes)
                    cache.Flush(entry, worker);
            }
            cache.AnnounceChanges();
        }
    }
}
