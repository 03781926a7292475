using System.Diagnostics;
using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests;

public class ConcurrencyStressTests
{
    private const int Workers = 3;

    [Fact]
    public void ControlOperationsAgainstReceive_TenSeconds_ConsistentAndBackToBaseline()
    {
        var f = new StackFixture(workers: Workers, capabilities: LinkCapabilities.None);
        Nic nic = f.Nic;
        Ipv4Address[] toggled = [.. Enumerable.Range(10, 8).Select(i => new Ipv4Address(198, 18, 0, (byte)i))];
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var stop = new ManualResetEventSlim();
        long stablePings = 0;
        long toggledPings = 0;

        void Run(Action body) { try { while (!stop.IsSet) body(); } catch (Exception e) { errors.Enqueue(e); } }

        var threads = new List<Thread>();
        for (int w = 0; w < Workers; w++)
        {
            int worker = w;
            threads.Add(new Thread(() =>
            {
                byte[] stable = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
                byte[][] others = [.. toggled.Select(a => Packets.EchoRequest(Packets.HostIp, a))];
                int i = 0;
                Run(() =>
                {
                    f.Link.InjectInboundRepeated(stable, 16, worker);
                    Interlocked.Add(ref stablePings, 16);
                    f.Link.InjectInboundRepeated(others[i++ % others.Length], 16, worker);
                    Interlocked.Add(ref toggledPings, 16);
                    if (worker == 0)
                        f.Link.Clear();
                });
            }));
        }
        // Control: add and remove addresses.
        threads.Add(new Thread(() =>
        {
            var random = new Random(1);
            Run(() =>
            {
                Ipv4Address a = toggled[random.Next(toggled.Length)];
                if (random.Next(2) == 0)
                    f.Stack.AddAddress(StackFixture.Nic1, a, 24);
                else
                    f.Stack.RemoveAddress(StackFixture.Nic1, a);
            });
        }));
        // Control: routes come and go, and routes hold addresses while their address is removed.
        threads.Add(new Thread(() =>
        {
            var random = new Random(2);
            Run(() =>
            {
                var route = new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1, random.Next(3));
                f.Stack.AddRoute(route);
                Ipv4Address local = toggled[random.Next(toggled.Length)];
                if (f.Stack.FindRoute(StackFixture.Nic1, local, Packets.HostIp, out Route? r) == StackError.None)
                {
                    StackError e = r!.WritePacket(IpProtocol.Udp, new byte[8]);
                    if (e is not (StackError.None or StackError.InvalidEndpointState or StackError.WouldBlock))
                        throw new InvalidOperationException($"WritePacket: {e}");
                    r.Release();
                }
                f.Stack.RemoveRoute(route);
            });
        }));
        // Observer: no snapshot has an address both present and absent: the map holds an endpoint
        // exactly when the primary list holds that same endpoint object.
        threads.Add(new Thread(() => Run(() =>
        {
            AddressSnapshot s = nic.Addresses;
            foreach (Ipv4Address a in toggled)
            {
                s.Ipv4.TryGetValue(a, out AddressEndpoint? inMap);
                AddressEndpoint? inPrimary = s.PrimaryIpv4.FirstOrDefault(p => p.Address.V4 == a);
                if (!ReferenceEquals(inMap, inPrimary))
                    throw new InvalidOperationException($"{a}: map {inMap}, primary {inPrimary}");
            }
        })));

        var clock = Stopwatch.StartNew();
        foreach (Thread t in threads)
            t.Start();
        Thread.Sleep(TimeSpan.FromSeconds(10.5));
        stop.Set();
        foreach (Thread t in threads)
            t.Join();

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(10));
        Assert.Empty(errors);
        Assert.True(stablePings > 1000, $"only {stablePings} pings went through");
        // Pings to the address that never changed were all answered; the others either answered or were counted.
        long echo = f[StatCounter.IcmpEchoRequestsReceived];
        long invalid = f[StatCounter.Ipv4InvalidDestinationAddressesReceived];
        Assert.Equal(stablePings + toggledPings, echo + invalid);
        Assert.Equal(echo, f[StatCounter.IcmpEchoRepliesSent]);
        Assert.True(echo >= stablePings);

        // Back to baseline: no temporary or expired endpoint left, every permanent one biased by exactly one.
        foreach (AddressEndpoint ep in nic.Addresses.Ipv4.Values)
        {
            Assert.Equal(AddressKind.Permanent, ep.Kind);
            Assert.Equal(1, ep.ReferenceCount);
        }
        Assert.Empty(f.Stack.Routes.Ipv4Routes);
        // And the final state agrees with itself through every API.
        foreach (Ipv4Address a in toggled)
            Assert.Equal(nic.HasAddress(a), nic.AllAddresses().Any(p => p.Address == a));
    }
}
