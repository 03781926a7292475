using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Neighbors;

public class NeighborCacheConcurrencyTests
{
    // A neighbour probing us again with the address we know changes nothing, so a worker handling its ARP request or
    // solicitation must not wait for the cache's lock; a probe that does change the entry still must.
    [Fact]
    public void HandleProbe_KnownNeighborSameAddress_DoesNotWaitForTheLock()
    {
        var clock = new ManualClock();
        var cache = new NeighborCache<Ipv4Address>(clock, new RecordingNeighborHandler(clock));
        var neighbor = Ipv4Address.Parse("198.18.1.7");
        MacAddress known = MacAddress.Parse("02:00:00:00:00:07");
        MacAddress moved = MacAddress.Parse("02:00:00:00:00:08");
        cache.HandleProbe(neighbor, known);
        var settled = new Thread(() => cache.HandleProbe(neighbor, known));
        var changing = new Thread(() => cache.HandleProbe(neighbor, moved));
        lock (cache.GateForTests)
        {
            settled.Start();
            Assert.True(settled.Join(TimeSpan.FromSeconds(10)), "a probe that changes nothing waited for the lock");
            changing.Start();
            Assert.False(changing.Join(TimeSpan.FromMilliseconds(200)), "a probe that changes the entry ran without the lock");
        }
        Assert.True(changing.Join(TimeSpan.FromSeconds(10)));
        Assert.True(cache.TryResolve(neighbor, out MacAddress now));
        Assert.Equal(moved, now);
    }

    // Workers resolve lock-free while a control thread keeps changing, removing and re-learning the same neighbors:
    // a worker must only ever see a link address that was really assigned, and nothing may throw.
    [Fact]
    public void TryResolve_WhileControlThreadChangesEntries_SeesOnlyAssignedAddresses()
    {
        var clock = new ManualClock();
        var handler = new RecordingNeighborHandler(clock);
        var cache = new NeighborCache<Ipv4Address>(clock, handler);
        Ipv4Address[] neighbors = [.. Enumerable.Range(0, 8).Select(i => new Ipv4Address(0xC612_0100u + (uint)i))];
        MacAddress[] macs = [MacAddress.Parse("02:00:00:00:00:01"), MacAddress.Parse("02:00:00:00:00:02")];
        using var stop = new CancellationTokenSource();
        long hits = 0;
        Exception? failure = null;
        Thread[] workers = [.. Enumerable.Range(0, 2).Select(w => new Thread(() =>
        {
            try
            {
                long local = 0;
                while (!stop.IsCancellationRequested)
                {
                    foreach (Ipv4Address n in neighbors)
                    {
                        if (cache.TryResolve(n, out MacAddress mac))
                        {
                            Assert.Contains(mac, macs);
                            local++;
                        }
                    }
                }
                Interlocked.Add(ref hits, local);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }))];
        foreach (Thread t in workers)
            t.Start();
        // The control thread is this one; ManualClock is not thread-safe, so no time passes here.
        var deadline = DateTime.UtcNow.AddMilliseconds(300);
        int round = 0;
        while (DateTime.UtcNow < deadline)
        {
            foreach (Ipv4Address n in neighbors)
            {
                switch (round++ % 4)
                {
                    case 0: cache.HandleProbe(n, macs[round & 1]); break;
                    case 1: cache.HandleConfirmation(n, macs[(round >> 1) & 1], solicited: true, isOverride: true); break;
                    case 2: cache.Remove(n); break;
                    case 3: cache.AddStatic(n, macs[0]); break;
                }
            }
        }
        stop.Cancel();
        foreach (Thread t in workers)
            t.Join();
        Assert.Null(failure);
        Assert.True(hits > 0);
    }
}
