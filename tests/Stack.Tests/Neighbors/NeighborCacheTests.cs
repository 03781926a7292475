using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Neighbors;

public class NeighborCacheTests
{
    private static readonly Ipv4Address Neighbor = Ipv4Address.Parse("198.18.0.2");
    private static readonly MacAddress Mac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly MacAddress OtherMac = MacAddress.Parse("02:00:00:00:00:99");

    private readonly ManualClock _clock = new();
    private readonly RecordingNeighborHandler _handler;
    private readonly NeighborCache<Ipv4Address> _cache;

    public NeighborCacheTests()
    {
        _handler = new RecordingNeighborHandler(_clock);
        // A fixed random factor of 0.5 makes ReachableTime exactly BaseReachableTime.
        _cache = new NeighborCache<Ipv4Address>(_clock, _handler, new NudConfiguration { Random = () => 0.5 });
    }

    private NeighborState StateOf(Ipv4Address address) =>
        _cache.TryGetInfo(address, out NeighborInfo<Ipv4Address> info) ? info.State : NeighborState.Unknown;

    private static Ipv4Address Host(int i) => new(0xC612_0000u + (uint)i + 10);

    private bool Send(Ipv4Address address, int tag) => _cache.Resolve(address, [(byte)tag, (byte)(tag >> 8), 0xA5], tag, out _);

    // Behaviour 49.
    [Fact]
    public void Resolve_NoReply_ThreeMulticastProbesOneSecondApartThenUnreachable()
    {
        Assert.False(Send(Neighbor, 1));
        Assert.Equal(NeighborState.Incomplete, StateOf(Neighbor));
        _clock.Advance(TimeSpan.FromMilliseconds(2999));
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], _handler.Probes.Select(p => p.At));
        Assert.All(_handler.Probes, p => Assert.Equal(MacAddress.Zero, p.UnicastTo));
        Assert.Equal(NeighborState.Incomplete, StateOf(Neighbor));
        Assert.Empty(_handler.Failed);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(NeighborState.Unreachable, StateOf(Neighbor));
        Assert.Equal(3, _handler.Probes.Count);
        (Ipv4Address neighbor, byte[] packet, int tag, PendingFailure reason) = Assert.Single(_handler.Failed);
        Assert.Equal((Neighbor, 1, PendingFailure.ResolutionFailed), (neighbor, tag, reason));
        Assert.Equal(new byte[] { 1, 0, 0xA5 }, packet);
        Assert.False(_cache.TryResolve(Neighbor, out _));

        // The next packet starts resolution again.
        Assert.False(Send(Neighbor, 2));
        Assert.Equal(NeighborState.Incomplete, StateOf(Neighbor));
        Assert.Equal(4, _handler.Probes.Count);
    }

    [Fact]
    public void QueuedPackets_FlushedThroughTheWorkerWhoseConfirmationOrProbeResolvedThem()
    {
        // A worker that receives the answer sends the queue itself, before its later packets to the same neighbour
        // (Linux sends its arp_queue within the receive); a queue resolved from a control thread goes out as control.
        Assert.False(_cache.Resolve(Neighbor, [1], 0, out _));
        Assert.False(_cache.Resolve(Neighbor, [2], 0, out _));
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: true, worker: 3);
        Assert.Equal([3, 3], _handler.SentBy);

        Ipv4Address other = Ipv4Address.Parse("198.18.0.77");
        Assert.False(_cache.Resolve(other, [3], 0, out _));
        _cache.HandleProbe(other, Mac, worker: 1);
        Ipv4Address third = Ipv4Address.Parse("198.18.0.78");
        Assert.False(_cache.Resolve(third, [4], 0, out _));
        _cache.AddStatic(third, Mac);
        Assert.Equal([3, 3, 1, NicStats.ControlWorker], _handler.SentBy);
    }

    [Theory]
    [InlineData(0.0, 15_000)]
    [InlineData(0.5, 30_000)]
    [InlineData(0.999, 44_970)]
    public void Reachable_AfterBaseReachableTimeTimesRandomFactor_BecomesStale(double random, int expectedMs)
    {
        var cache = new NeighborCache<Ipv4Address>(_clock, _handler, new NudConfiguration { Random = () => random });
        Assert.False(cache.Resolve(Neighbor, [1], 0, out _));
        cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: true);
        Assert.True(cache.TryGetInfo(Neighbor, out NeighborInfo<Ipv4Address> info));
        Assert.Equal(NeighborState.Reachable, info.State);
        _clock.Advance(TimeSpan.FromMilliseconds(expectedMs - 1));
        Assert.True(cache.TryGetInfo(Neighbor, out info));
        Assert.Equal(NeighborState.Reachable, info.State);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(cache.TryGetInfo(Neighbor, out info));
        Assert.Equal(NeighborState.Stale, info.State);
    }

    [Fact]
    public void Stale_SendThenSilence_DelayFiveSecondsThenThreeUnicastProbesThenUnreachable()
    {
        _cache.HandleProbe(Neighbor, Mac);
        Assert.Equal(NeighborState.Stale, StateOf(Neighbor));
        Assert.True(_cache.TryResolve(Neighbor, out MacAddress resolved));
        Assert.Equal(Mac, resolved);
        Assert.Equal(NeighborState.Delay, StateOf(Neighbor));

        _clock.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.Equal(NeighborState.Delay, StateOf(Neighbor));
        Assert.Empty(_handler.Probes);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(NeighborState.Probe, StateOf(Neighbor));
        Assert.True(_cache.TryResolve(Neighbor, out _));

        _clock.Advance(TimeSpan.FromMilliseconds(2999));
        Assert.Equal([5, 6, 7], _handler.Probes.Select(p => (int)p.At.TotalSeconds));
        Assert.All(_handler.Probes, p => Assert.Equal(Mac, p.UnicastTo));
        Assert.Equal(NeighborState.Probe, StateOf(Neighbor));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(NeighborState.Unreachable, StateOf(Neighbor));
        Assert.False(_cache.TryResolve(Neighbor, out _));
    }

    [Fact]
    public void Delay_SolicitedConfirmation_BecomesReachableWithoutProbing()
    {
        _cache.HandleProbe(Neighbor, Mac);
        Assert.True(_cache.TryResolve(Neighbor, out _));
        _clock.Advance(TimeSpan.FromSeconds(2));
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: false);
        Assert.Equal(NeighborState.Reachable, StateOf(Neighbor));
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(_handler.Probes);
        Assert.Equal(NeighborState.Reachable, StateOf(Neighbor));
    }

    // Behaviour 47.
    [Fact]
    public void Incomplete_UnsolicitedConfirmation_BecomesStaleNotReachable()
    {
        Assert.False(Send(Neighbor, 7));
        _cache.HandleConfirmation(Neighbor, Mac, solicited: false, isOverride: true);
        Assert.Equal(NeighborState.Stale, StateOf(Neighbor));
        (Ipv4Address neighbor, MacAddress linkAddress, _, int tag) = Assert.Single(_handler.Sent);
        Assert.Equal((Neighbor, Mac, 7), (neighbor, linkAddress, tag));
    }

    [Fact]
    public void Incomplete_SolicitedConfirmation_BecomesReachable()
    {
        Assert.False(Send(Neighbor, 7));
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: false);
        Assert.Equal(NeighborState.Reachable, StateOf(Neighbor));
        Assert.True(_cache.TryResolve(Neighbor, out MacAddress resolved));
        Assert.Equal(Mac, resolved);
        Assert.Equal(NeighborState.Reachable, StateOf(Neighbor));
        // No more probes once resolved.
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Single(_handler.Probes);
    }

    [Fact]
    public void Confirmation_UnknownNeighbor_IsIgnored()
    {
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: true);
        _cache.HandleConfirmation(Neighbor, Mac, solicited: false, isOverride: true);
        Assert.Equal(0, _cache.Count);
        Assert.False(_cache.TryResolve(Neighbor, out _));
    }

    [Fact]
    public void Reachable_DifferentAddressWithoutOverride_KeepsAddressButBecomesStale()
    {
        Assert.False(Send(Neighbor, 1));
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: false);
        _cache.HandleConfirmation(Neighbor, OtherMac, solicited: false, isOverride: false);
        Assert.True(_cache.TryGetInfo(Neighbor, out NeighborInfo<Ipv4Address> info));
        Assert.Equal((Mac, NeighborState.Stale), (info.LinkAddress, info.State));

        _cache.HandleConfirmation(Neighbor, OtherMac, solicited: false, isOverride: true);
        Assert.True(_cache.TryGetInfo(Neighbor, out info));
        Assert.Equal((OtherMac, NeighborState.Stale), (info.LinkAddress, info.State));
    }

    // Behaviour 46.
    [Fact]
    public void HandleProbe_UnknownThenNewAddress_CreatesAndUpdatesStaleEntry()
    {
        _cache.HandleProbe(Neighbor, Mac);
        Assert.True(_cache.TryGetInfo(Neighbor, out NeighborInfo<Ipv4Address> info));
        Assert.Equal((Mac, NeighborState.Stale), (info.LinkAddress, info.State));
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: false);
        _cache.HandleProbe(Neighbor, Mac);
        Assert.Equal(NeighborState.Reachable, StateOf(Neighbor));
        _cache.HandleProbe(Neighbor, OtherMac);
        Assert.True(_cache.TryGetInfo(Neighbor, out info));
        Assert.Equal((OtherMac, NeighborState.Stale), (info.LinkAddress, info.State));
        Assert.Empty(_handler.Probes);
    }

    // Behaviour 48.
    [Fact]
    public void Overflow_FrequentlyUsedEntrySurvivesAndStaticEntriesAreNeitherCountedNorEvicted()
    {
        Ipv4Address gateway = Ipv4Address.Parse("198.18.0.1"), hot = Host(0);
        _cache.AddStatic(gateway, Mac);
        for (int i = 0; i < 512; i++)
        {
            _cache.HandleProbe(Host(i), Mac);
            Assert.True(_cache.TryResolve(hot, out _));
        }
        Assert.Equal(512, _cache.DynamicCount);
        Assert.Equal(513, _cache.Count);
        for (int i = 512; i < 1024; i++)
        {
            _cache.HandleProbe(Host(i), Mac);
            Assert.True(_cache.TryResolve(hot, out _));
            Assert.Equal(512, _cache.DynamicCount);
        }
        Assert.True(_cache.TryResolve(hot, out _));
        Assert.True(_cache.TryResolve(gateway, out MacAddress gatewayMac));
        Assert.Equal(Mac, gatewayMac);
        Assert.Equal(NeighborState.Static, StateOf(gateway));
        // The oldest unused entries went first; the newest are all present.
        Assert.False(_cache.TryGetInfo(Host(1), out _));
        Assert.False(_cache.TryGetInfo(Host(512), out _));
        Assert.True(_cache.TryGetInfo(Host(1023), out _));
        Assert.True(_cache.TryGetInfo(Host(514), out _));
    }

    [Fact]
    public void Overflow_EvictedEntryWithQueuedPackets_FailsThem()
    {
        var cache = new NeighborCache<Ipv4Address>(_clock, _handler, new NudConfiguration { MaxDynamicEntries = 2 });
        Assert.False(cache.Resolve(Host(0), [1], 10, out _));
        cache.HandleProbe(Host(1), Mac);
        cache.HandleProbe(Host(2), Mac);
        Assert.Equal(2, cache.DynamicCount);
        (Ipv4Address neighbor, _, int tag, PendingFailure reason) = Assert.Single(_handler.Failed);
        Assert.Equal((Host(0), 10, PendingFailure.EntryRemoved), (neighbor, tag, reason));
    }

    // Behaviour 45.
    [Fact]
    public void Resolve_261QueuedPackets_DropsOldestFiveAndSendsRestInOrder()
    {
        for (int i = 0; i < 261; i++)
            Assert.False(Send(Neighbor, i));
        Assert.Equal([0, 1, 2, 3, 4], _handler.Failed.Select(f => f.Tag));
        Assert.All(_handler.Failed, f => Assert.Equal(PendingFailure.QueueFull, f.Reason));
        Assert.Single(_handler.Probes);
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: false);
        Assert.Equal(Enumerable.Range(5, 256), _handler.Sent.Select(s => s.Tag));
        Assert.All(_handler.Sent, s => Assert.Equal(new byte[] { (byte)s.Tag, (byte)(s.Tag >> 8), 0xA5 }, s.Packet));
        Assert.All(_handler.Sent, s => Assert.Equal(Mac, s.LinkAddress));
    }

    [Fact]
    public void Resolve_69PendingResolutions_CancelsFirstFive()
    {
        for (int i = 0; i < 69; i++)
            Assert.False(Send(Host(i), i));
        Assert.Equal([0, 1, 2, 3, 4], _handler.Failed.Select(f => f.Tag));
        Assert.All(_handler.Failed, f => Assert.Equal(PendingFailure.ResolutionCancelled, f.Reason));
        for (int i = 0; i < 69; i++)
            _cache.HandleConfirmation(Host(i), Mac, solicited: true, isOverride: false);
        Assert.Equal(Enumerable.Range(5, 64), _handler.Sent.Select(s => s.Tag));
        Assert.All(_handler.Sent, s => Assert.Equal(Host(s.Tag), s.Neighbor));
    }

    [Fact]
    public void Resolve_FrameReusedAfterQueueing_SendsTheCopy()
    {
        byte[] frame = [1, 2, 3, 4];
        Assert.False(_cache.Resolve(Neighbor, frame.AsSpan(1, 2), 0, out _));
        frame.AsSpan().Fill(0xEE);
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: false);
        Assert.Equal(new byte[] { 2, 3 }, Assert.Single(_handler.Sent).Packet);
    }

    [Fact]
    public void Flush_PacketSentWhileFlushing_QueuesBehindEarlierPackets()
    {
        for (int i = 0; i < 3; i++)
            Assert.False(Send(Neighbor, i));
        int next = 100;
        _handler.OnSend = neighbor =>
        {
            // A worker sending during the flush must not overtake the queue.
            if (next < 102)
                Assert.False(Send(neighbor, next++));
        };
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: false);
        Assert.Equal([0, 1, 2, 100, 101], _handler.Sent.Select(s => s.Tag));
        Assert.True(_cache.TryResolve(Neighbor, out _));
    }

    [Fact]
    public void AddStatic_WithQueuedPackets_SendsThemAndNeverProbes()
    {
        Assert.False(Send(Neighbor, 3));
        _cache.AddStatic(Neighbor, Mac);
        Assert.Equal(3, Assert.Single(_handler.Sent).Tag);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Single(_handler.Probes);
        Assert.Equal(NeighborState.Static, StateOf(Neighbor));
        Assert.Equal(0, _cache.DynamicCount);
        _cache.HandleConfirmation(Neighbor, OtherMac, solicited: true, isOverride: true);
        Assert.True(_cache.TryResolve(Neighbor, out MacAddress resolved));
        Assert.Equal(Mac, resolved);
    }

    [Fact]
    public void Remove_WithQueuedPackets_FailsThemAndCancelsTimers()
    {
        Assert.False(Send(Neighbor, 1));
        Assert.True(_cache.Remove(Neighbor));
        Assert.Equal(PendingFailure.EntryRemoved, Assert.Single(_handler.Failed).Reason);
        Assert.Equal(0, _clock.PendingTimers);
        Assert.False(_cache.Remove(Neighbor));
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Single(_handler.Probes);
    }

    [Fact]
    public void TryResolve_ResolvedEntry_AllocatesNothing()
    {
        Assert.False(Send(Neighbor, 1));
        _cache.HandleConfirmation(Neighbor, Mac, solicited: true, isOverride: false);
        Assert.True(_cache.TryResolve(Neighbor, out _));
        long before = GC.GetAllocatedBytesForCurrentThread();
        ulong sum = 0;
        for (int i = 0; i < 1000; i++)
        {
            _cache.TryResolve(Neighbor, out MacAddress mac);
            sum += mac.Value;
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(Mac.Value * 1000, sum);
    }
}
