using System.Diagnostics;
using System.Net;
using XdpStack.Lab;
using XdpStack.Xdp.Routes;

namespace XdpStack.Xdp.Tests.Routes;

/// <summary>KernelRouteMonitor against the kernel of a namespace of its own: the dump, notifications, and an overrun.</summary>
[Trait("Category", "Root")]
public sealed class KernelRouteMonitorTests
{
    [Fact]
    public void DumpAndReceive_RoutesAddedAndDeleted_SeenInTheDumpAndAsNotifications()
    {
        using var lab = new NetworkLab();
        NetNamespace a = lab.AddNamespace("a"), b = lab.AddNamespace("b");
        (string dev, _) = lab.AddVeth(a, b);
        a.Ip("route", "add", "198.19.1.0/24", "via", "198.18.0.2", "dev", dev, "onlink", "proto", "bird", "metric", "20");
        KernelRouteMonitor monitor;
        using (a.Enter())
            monitor = new KernelRouteMonitor(ipv4: true, ipv6: false);
        using (monitor)
        {
            var dump = new List<KernelRouteChange>();
            using (a.Enter())
                monitor.Dump(dump);
            KernelRoute first = Assert.Single(dump, c => c.Route.Destination.Equals(IPAddress.Parse("198.19.1.0"))).Route;
            Assert.Equal((24, 254u, (byte)12, 20u), (first.PrefixLength, first.Table, first.Protocol, first.Metric));

            a.Ip("route", "add", "198.19.2.0/24", "proto", "zebra", "nexthop", "via", "198.18.0.2", "dev", dev, "onlink", "nexthop", "via", "198.18.0.3", "dev", dev, "onlink");
            a.Ip("route", "del", "198.19.1.0/24");
            List<KernelRouteChange> changes = ReceiveAtLeast(monitor, 2);

            KernelRouteChange added = Assert.Single(changes, c => c.Route.Destination.Equals(IPAddress.Parse("198.19.2.0")));
            Assert.Equal(KernelRouteChangeKind.Add, added.Kind);
            Assert.Equal([IPAddress.Parse("198.18.0.2"), IPAddress.Parse("198.18.0.3")], added.Route.NextHops.Select(h => h.Gateway));
            KernelRouteChange deleted = Assert.Single(changes, c => c.Route.Destination.Equals(IPAddress.Parse("198.19.1.0")));
            Assert.Equal(KernelRouteChangeKind.Remove, deleted.Kind);
            Assert.Equal(0, monitor.Counters.Malformed);
        }
    }

    [Fact]
    public void Receive_MoreNotificationsThanTheBufferHolds_Overrun_ThenDiscardAndDumpGiveTheTable()
    {
        using var lab = new NetworkLab();
        NetNamespace a = lab.AddNamespace("a"), b = lab.AddNamespace("b");
        (string dev, _) = lab.AddVeth(a, b);
        KernelRouteMonitor monitor;
        using (a.Enter())
            monitor = new KernelRouteMonitor(ipv4: true, ipv6: false, receiveBufferBytes: 4096);
        using (monitor)
        {
            string batch = Path.GetTempFileName();
            try
            {
                File.WriteAllLines(batch, Enumerable.Range(0, 2000).Select(i => $"route add 198.19.{i / 256}.{i % 256}/32 via 198.18.0.2 dev {dev} onlink"));
                a.Ip("-batch", batch);
            }
            finally
            {
                File.Delete(batch);
            }

            var changes = new List<KernelRouteChange>();
            KernelRouteReceiveResult result = KernelRouteReceiveResult.Timeout;
            for (int i = 0; i < 100 && result != KernelRouteReceiveResult.Overrun; i++)
                result = monitor.Receive(changes, 100);

            Assert.Equal(KernelRouteReceiveResult.Overrun, result);
            Assert.Equal(1, monitor.Counters.Overruns);
            monitor.DiscardQueued();
            using (a.Enter())
                monitor.Dump(changes);
            Assert.Equal(2000, changes.Count(c => c.Route.PrefixLength == 32 && c.Route.Table == 254));
        }
    }

    private static List<KernelRouteChange> ReceiveAtLeast(KernelRouteMonitor monitor, int count)
    {
        var changes = new List<KernelRouteChange>();
        var clock = Stopwatch.StartNew();
        while (changes.Count < count && clock.Elapsed < TimeSpan.FromSeconds(10))
            Assert.NotEqual(KernelRouteReceiveResult.Overrun, monitor.Receive(changes, 200));
        return changes;
    }
}
