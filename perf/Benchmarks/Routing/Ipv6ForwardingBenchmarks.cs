using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using XdpStack.Stack;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Benchmarks.Routing;

/// <summary>The IPv6 forwarding fast path (<see cref="Ipv6FastForwarder"/>) against the same loop in C on DPDK's rte_lpm6 (perf/native/fwd6_ref.c, the baseline).</summary>
/// <remarks>
/// <para>
/// 4,096 frames of 78 bytes (Ethernet 14, IPv6 40 with hop limit 255, UDP 8, 16 bytes of UDP data), one per 2 KiB
/// chunk as in an AF_XDP UMEM, to destinations drawn uniformly over <see cref="Prefixes"/> random routed prefixes
/// (/16 to /64, random global-unicast space), each routed through one of 16 link-local gateways on 16 egress NICs.
/// Every invocation runs <see cref="Passes"/> passes, each forwarding the whole batch once, so figures are per frame.
/// </para>
/// <para>
/// Keeping the batch forwardable: each gateway's MAC is the ingress NIC's own MAC, so a forwarded frame is again
/// addressed to the router (a loop), and the only thing that wears out is the hop limit, one per pass. After its
/// 200 passes (255 → 55) each invocation sets every hop limit back to 255 with the same managed loop for every
/// contender; there is no checksum to fix in IPv6.
/// </para>
/// <para>
/// Setup runs the contenders once on copies of the batch and checks that they forward every frame, to the same
/// egress, with identical bytes.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class Ipv6ForwardingBenchmarks
{
    private const int Batch = 4096;
    private const int Passes = 200;
    private const int Stride = 2048;
    private const int FrameLength = 14 + 40 + 8 + 16;
    private const int Gateways = 16;
    private static readonly MacAddress IngressMac = MacAddress.Parse("02:00:00:00:00:01");

    private static int s_built;
    private static NetworkStack? s_stack;
    private static bool s_fastHugePages;
    private static Ipv6FastForwarder? s_fast;
    private static RteForward6Reference? s_reference;
    private static byte[]? s_template;

    private readonly byte[] _ours = GC.AllocateArray<byte>(Batch * Stride, pinned: true);
    private readonly byte[] _theirs = GC.AllocateArray<byte>(Batch * Stride, pinned: true);
    private readonly Frame[] _frames = new Frame[Batch];
    private readonly Frame[] _theirFrames = new Frame[Batch];
    private readonly ForwardVerdict[] _verdicts = new ForwardVerdict[Batch];
    private readonly byte[] _theirVerdicts = new byte[Batch];
    private readonly int[] _egress = new int[Batch];
    private readonly int[] _theirEgress = new int[Batch];

    // 200,000: a full Internet IPv6 table (issue 14), to compare with the 100,000 row.
    [Params(1_000, 10_000, 100_000, 200_000)]
    public int Prefixes { get; set; }

    /// <summary>Whether our trie's nodes are advised onto transparent huge pages (<c>lpm_huge_pages</c> in <c>xdpstack run</c>); rte_lpm6 stays in EAL's --no-huge memory either way (its tables are private to DPDK, so they cannot be copied out as rte_lpm's are).</summary>
    [Params(false, true)]
    public bool HugePages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (s_built != Prefixes)
            Build(Prefixes);
        if (s_fast is null || s_fastHugePages != HugePages)
            BuildFastPath(HugePages);
        foreach (int lanes in (int[])[1, 4, 8])
        {
            for (int i = 0; i < Batch; i++)
            {
                _frames[i] = new Frame(i * Stride, FrameLength);
                _theirFrames[i] = new Frame(i * Stride, FrameLength);
            }
            s_template!.CopyTo(_ours, 0);
            s_template.CopyTo(_theirs, 0);
            s_fast!.LookupLanes = lanes;
            int ours = s_fast.Forward(new NicId(1), _ours, _frames, _verdicts, _egress);
            int theirs = s_reference!.Forward(_theirs, _theirFrames, _theirVerdicts, _theirEgress, bulk: lanes == 1);
            if (ours != Batch || theirs != Batch)
                throw new InvalidOperationException($"forwarded {ours} (ours, {lanes} lanes) and {theirs} (C) of {Batch}");
            for (int i = 0; i < Batch; i++)
            {
                if (_egress[i] != _theirEgress[i] || _frames[i].Length != _theirFrames[i].Length
                    || !_ours.AsSpan(i * Stride, FrameLength).SequenceEqual(_theirs.AsSpan(i * Stride, FrameLength)))
                    throw new InvalidOperationException($"frame {i}: egress {_egress[i]} vs {_theirEgress[i]}, or bytes differ");
            }
        }
        s_template!.CopyTo(_ours, 0);
        s_template.CopyTo(_theirs, 0);
        Console.WriteLine($"// {Prefixes} prefixes: both paths forward all {Batch} frames identically");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch * Passes, Description = "C fwd6_ref (rte_lpm6_lookup_bulk_func)")]
    public int ReferenceBulk() => Reference(bulk: true);

    [Benchmark(OperationsPerInvoke = Batch * Passes, Description = "C fwd6_ref (rte_lpm6_lookup per packet)")]
    public int ReferenceScalar() => Reference(bulk: false);

    [Benchmark(OperationsPerInvoke = Batch * Passes, Description = "Ipv6FastForwarder.Forward, 1 lane")]
    public int FastPathScalar() => Fast(1);

    [Benchmark(OperationsPerInvoke = Batch * Passes, Description = "Ipv6FastForwarder.Forward, 4 lanes")]
    public int FastPathX4() => Fast(4);

    [Benchmark(OperationsPerInvoke = Batch * Passes, Description = "Ipv6FastForwarder.Forward, 8 lanes")]
    public int FastPathX8() => Fast(8);

    private int Reference(bool bulk)
    {
        int n = 0;
        for (int pass = 0; pass < Passes; pass++)
            n += s_reference!.Forward(_theirs, _theirFrames, _theirVerdicts, _theirEgress, bulk);
        ResetHopLimits(_theirs);
        return n;
    }

    private int Fast(int lanes)
    {
        Ipv6FastForwarder fast = s_fast!;
        fast.LookupLanes = lanes;
        int n = 0;
        for (int pass = 0; pass < Passes; pass++)
            n += fast.Forward(new NicId(1), _ours, _frames, _verdicts, _egress);
        ResetHopLimits(_ours);
        return n;
    }

    private static void ResetHopLimits(byte[] memory)
    {
        for (int i = 0; i < Batch; i++)
            memory[i * Stride + 14 + 7] = 255;
    }

    private static void Build(int count)
    {
        s_reference?.Dispose();
        s_fast?.Dispose();
        s_fast = null;
        GC.Collect();
        var random = new Random(11);

        // The router: NIC 1 receives; NICs 2..17 each reach one link-local gateway whose MAC is NIC 1's (see remarks).
        var stack = new NetworkStack();
        stack.CreateNic(new NicId(1), new ChannelEndpoint(IngressMac, batchCapacity: 1, outboundCapacity: 1), "in");
        stack.AddAddress(new NicId(1), Ipv6Address.Parse("2001:2::1"), 64);
        stack.Ipv6Forwarder = new Ipv6Forwarder();
        stack.SetForwarding(new NicId(1), EtherType.Ipv6, true, out _);
        var hops = new List<(byte[] Macs, int Port, int Mtu)>();
        var gateways = new Ipv6Address[Gateways];
        var routes = new List<Ipv6Route> { new(Ipv6Prefix.Parse("2001:2::/64"), Ipv6Address.Any, 1) };
        for (int g = 0; g < Gateways; g++)
        {
            var mac = new MacAddress(0x0200_0000_0100UL | (uint)g);
            var nic = new NicId(g + 2);
            stack.CreateNic(nic, new ChannelEndpoint(mac, batchCapacity: 1, outboundCapacity: 1), "out" + g);
            stack.AddAddress(nic, new Ipv6Address(0x2001_0002_0000_0000UL | (ulong)(g + 1) << 16, 1), 64);    // 2001:2:0:(g+1)::1/64
            routes.Add(new Ipv6Route(new Ipv6Prefix(new Ipv6Address(0x2001_0002_0000_0000UL | (ulong)(g + 1) << 16, 0), 64), Ipv6Address.Any, g + 2));
            gateways[g] = new Ipv6Address(0xFE80_0000_0000_0000UL, (ulong)g + 1);                               // fe80::(g+1)
            stack.Nics[nic].Ipv6Neighbors.AddStatic(gateways[g], IngressMac);
            byte[] macs = new byte[12];
            IngressMac.CopyTo(macs);
            mac.CopyTo(macs.AsSpan(6));
            hops.Add((macs, g + 2, 1500));
        }

        // Random routed prefixes /16../64 in 2000::/3, none under 2001::/16 (which holds the router's own 2001:2::/48
        // and the documentation prefix 2001:db8::/32). These addresses never leave memory.
        var seen = new HashSet<Ipv6Prefix>();
        var prefixes = new Ipv6Prefix[count];
        byte[] prefixBytes = new byte[16 * count];
        byte[] lengths = new byte[count];
        uint[] hopIds = new uint[count];
        for (int n = 0; n < count;)
        {
            int length = random.Next(16, 65);
            ulong high = (0x2000_0000_0000_0000UL | ((ulong)random.NextInt64() & 0x1FFF_FFFF_FFFF_FFFFUL)) & (length == 64 ? ulong.MaxValue : ~(ulong.MaxValue >> length));
            var prefix = new Ipv6Prefix(new Ipv6Address(high, 0), length);
            if ((high >> 48) == 0x2001 || !seen.Add(prefix))
                continue;
            int g = random.Next(Gateways);
            prefixes[n] = prefix;
            prefix.Address.CopyTo(prefixBytes.AsSpan(16 * n));
            lengths[n] = (byte)length;
            hopIds[n] = (uint)g;
            routes.Add(new Ipv6Route(prefix, gateways[g], g + 2));
            n++;
        }
        stack.SetRoutes([], routes);
        s_stack = stack;

        s_reference = new RteForward6Reference(prefixBytes, lengths, hopIds, Tbl8Groups(prefixes), hops, IngressBytes());

        // The batch: 78-byte UDP frames from 2001:2::10 to a random address of a random prefix.
        s_template = new byte[Batch * Stride];
        var source = Ipv6Address.Parse("2001:2::10");
        for (int i = 0; i < Batch; i++)
        {
            Ipv6Prefix prefix = prefixes[random.Next(count)];
            ulong hostHigh = prefix.Length >= 64 ? 0 : (ulong)random.NextInt64() & (ulong.MaxValue >> prefix.Length);
            var destination = new Ipv6Address(prefix.Address.High | hostHigh, (ulong)random.NextInt64());
            Span<byte> frame = s_template.AsSpan(i * Stride, FrameLength);
            new EthernetHeader(IngressMac, MacAddress.Parse("02:00:00:00:00:0a"), EtherType.Ipv6).Emit(frame);
            Span<byte> ip = frame[14..];
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], FrameLength - 54);
            ip[6] = (byte)IpProtocol.Udp;
            ip[7] = 255;
            source.CopyTo(ip[8..]);
            destination.CopyTo(ip[24..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[54..], 5000);
            BinaryPrimitives.WriteUInt16BigEndian(frame[56..], 6000);
            BinaryPrimitives.WriteUInt16BigEndian(frame[58..], FrameLength - 54);
        }
        s_built = count;
    }

    private static void BuildFastPath(bool hugePages)
    {
        s_fast?.Dispose();
        s_fast = null;
        GC.Collect();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        s_fast = new Ipv6FastForwarder(s_stack!, hugePages);
        double firstBuild = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        s_fast.Refresh();
        s_fastHugePages = hugePages;
        Ipv6Lpm lpm = s_fast.Snapshot.Lpm;
        Console.WriteLine($"// {s_built} prefixes, huge pages {hugePages}: snapshot built in {firstBuild:F1} ms, rebuilt in {watch.Elapsed.TotalMilliseconds:F1} ms; "
            + $"trie of {lpm.NodeCount} nodes, {lpm.MemoryBytes / 1024.0 / 1024.0:F1} MiB; {AnonHugePages()}");
    }

    private static string AnonHugePages()
    {
        string? line = File.ReadLines("/proc/self/smaps_rollup").FirstOrDefault(l => l.StartsWith("AnonHugePages:", StringComparison.Ordinal));
        return line is null ? "AnonHugePages unknown" : string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    // rte_lpm6 has a 24-bit first level and 8-bit groups below it: a rule of depth d needs a group under each of its
    // prefixes of 24, 32, 40 ... bits shorter than d, shared with every rule that has the same one.
    private static uint Tbl8Groups(Ipv6Prefix[] prefixes)
    {
        var groups = new HashSet<Ipv6Prefix>();
        foreach (Ipv6Prefix prefix in prefixes)
        {
            for (int level = 24; level < prefix.Length; level += 8)
                groups.Add(Ipv6Prefix.Containing(prefix.Address, level));
        }
        return (uint)groups.Count + 64;
    }

    private static byte[] IngressBytes()
    {
        byte[] bytes = new byte[8];
        IngressMac.CopyTo(bytes);
        return bytes;
    }

    private sealed class Config : ManualConfig
    {
        // Setting up the largest table takes minutes (routes, the snapshot, the C table): past the toolchain's default limit.
        public Config() => AddJob(Job.ShortRun.WithIterationCount(6).WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true)).WithId("ShortInProcess"));
    }
}
