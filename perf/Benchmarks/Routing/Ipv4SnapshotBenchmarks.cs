using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using XdpStack.Stack;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Benchmarks.Routing;

/// <summary>How long <see cref="Ipv4FastForwarder.Refresh"/> takes: one rebuild of the IPv4 fast path's snapshot from the stack.</summary>
/// <remarks>
/// The router is <see cref="ForwardingBenchmarks"/>' without its frames and C loop: NIC 1 receiving, 16 egress NICs
/// each with one gateway as a static neighbour, and <see cref="Prefixes"/> distinct random prefixes (/8 to /32, the
/// same special ranges left out, seed 11) each through one of the gateways. A rebuild reads the route table, resolves
/// the gateways and builds a new <see cref="Ipv4Lpm"/> (4 KiB pages) from scratch.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class Ipv4SnapshotBenchmarks
{
    private const int Gateways = 16;

    private Ipv4FastForwarder? _fast;

    [Params(1_000, 100_000)]
    public int Prefixes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(11);
        var ingressMac = MacAddress.Parse("02:00:00:00:00:01");
        var stack = new NetworkStack();
        stack.CreateNic(new NicId(1), new ChannelEndpoint(ingressMac, batchCapacity: 1, outboundCapacity: 1), "in");
        stack.AddAddress(new NicId(1), Ipv4Address.Parse("198.18.0.1"), 24);
        stack.Ipv4Forwarder = new Ipv4Forwarder();
        stack.SetForwarding(new NicId(1), EtherType.Ipv4, true, out _);
        var routes = new List<Ipv4Route> { new(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1) };
        var gateways = new Ipv4Address[Gateways];
        for (int g = 0; g < Gateways; g++)
        {
            var nic = new NicId(g + 2);
            stack.CreateNic(nic, new ChannelEndpoint(new MacAddress(0x0200_0000_0100UL | (uint)g), batchCapacity: 1, outboundCapacity: 1), "out" + g);
            gateways[g] = new Ipv4Address(0xC612_0100u + (uint)(g << 8) + 1);   // 198.18.(1+g).1
            stack.Nics[nic].Neighbors.AddStatic(gateways[g], ingressMac);
            routes.Add(new Ipv4Route(new Ipv4Prefix(new Ipv4Address(gateways[g].Value & 0xFFFF_FF00), 24), Ipv4Address.Any, g + 2));
        }
        var seen = new HashSet<(uint, int)>();
        for (int n = 0; n < Prefixes;)
        {
            int length = random.Next(8, 33);
            uint address = (uint)random.NextInt64(0, 1L << 32) & Ipv4LpmBuilder.Mask(length);
            uint top = address >> 24;
            if (top is 0 or 127 or 169 or 198 || top >= 224 || !seen.Add((address, length)))
                continue;
            int g = random.Next(Gateways);
            routes.Add(new Ipv4Route(new Ipv4Prefix(new Ipv4Address(address), length), gateways[g], g + 2));
            n++;
        }
        stack.SetRoutes(routes, []);
        _fast = new Ipv4FastForwarder(stack);
        Console.WriteLine($"// {Prefixes} prefixes: snapshot LPM with {_fast.Snapshot.Lpm.Tbl8GroupCount} tbl8 groups");
    }

    [GlobalCleanup]
    public void Cleanup() => _fast?.Dispose();

    [Benchmark(Description = "Ipv4FastForwarder.Refresh()")]
    public Ipv4ForwardingSnapshot Refresh()
    {
        _fast!.Refresh();
        return _fast.Snapshot;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithIterationCount(6).WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess"));
    }
}
