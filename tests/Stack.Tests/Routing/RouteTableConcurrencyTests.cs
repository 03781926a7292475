using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Routing;

public class RouteTableConcurrencyTests
{
    // Readers take Current once per "batch" and look up while the writer publishes new tables: every answer must be
    // consistent with the snapshot it came from (the route contains the address and is in that snapshot's list).
    [Fact]
    public void Lookup_WhileWriterPublishes_AnswersFromOneConsistentSnapshot()
    {
        var writer = new RouteTableWriter(lpmThreshold: 2);
        writer.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("0.0.0.0/0"), Ipv4Address.Parse("198.18.0.1"), 1));
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        long lookups = 0;
        var reader = new Thread(() =>
        {
            try
            {
                var random = new Random(3);
                while (!stop.IsCancellationRequested)
                {
                    RouteTable table = writer.Current;
                    for (int i = 0; i < 64; i++)
                    {
                        var address = new Ipv4Address(0xC612_0000u | (uint)random.Next(0x20000));
                        Ipv4Route? route = table.Lookup(address);
                        Assert.NotNull(route);
                        Assert.True(route.Destination.Contains(address));
                        Assert.Contains(route, table.Ipv4Routes);
                        lookups++;
                    }
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        reader.Start();
        for (int i = 0; i < 12; i++)
        {
            writer.Update(b =>
            {
                b.AddRoute(new Ipv4Route(Ipv4Prefix.Containing(new Ipv4Address(0xC612_0000u + ((uint)i << 8)), 24), Ipv4Address.Any, 2));
                b.AddRoute(new Ipv4Route(Ipv4Prefix.Containing(new Ipv4Address(0xC612_0080u + ((uint)i << 8)), 25), Ipv4Address.Any, 3));
                if (i % 3 == 2)
                    b.RemoveRoutes((Ipv4Route r) => r.Nic == 3);
            });
        }
        stop.Cancel();
        reader.Join();
        Assert.Null(failure);
        Assert.True(lookups > 0);
    }
}
