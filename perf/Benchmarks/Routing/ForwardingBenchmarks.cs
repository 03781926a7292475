using System.Buffers.Binary;
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

/// <summary>The IPv4 forwarding fast path (<see cref="Ipv4FastForwarder"/>) against the same loop in C on DPDK's rte_lpm (perf/native/fwd_ref.c, the baseline).</summary>
/// <remarks>
/// <para>
/// 4,096 frames of 64 bytes (Ethernet, IPv4 with TTL 255 and a valid checksum, UDP), one per 2 KiB chunk as in an
/// AF_XDP UMEM, to destinations drawn uniformly over <see cref="Prefixes"/> random routed prefixes (/8 to /32),
/// each routed through one of 16 gateways on 16 egress NICs. Every invocation forwards the whole batch once
/// (OperationsPerInvoke = 4,096), so figures are per frame.
/// </para>
/// <para>
/// Keeping the batch forwardable: each gateway's MAC is the ingress NIC's own MAC, so a forwarded frame is again
/// addressed to the router (a loop), and the only thing that wears out is the TTL, one per pass. When the first
/// frame's TTL falls below 3 (every 253rd pass) the same managed loop, run inside the measured invocation for both
/// contenders, sets every TTL back to 255 with an RFC 1624 checksum update: 4,096 two-byte updates per 253 passes.
/// </para>
/// <para>
/// Setup runs ours and both C lookups once on copies of the batch and checks that they forward every frame, to the
/// same egress, with identical bytes and lengths. Both do the same work per frame: pass 1 reads each header once and
/// keeps the TTL word and total length for the rewrite pass, which reads no header again, and both make the hairpin
/// compare.
/// </para>
/// <para>
/// <see cref="HugePages"/>: false puts both LPMs on 4 KiB pages (our snapshot unadvised, rte_lpm in EAL's --no-huge
/// memory); true advises MADV_HUGEPAGE for ours and runs the C loop on a copy of rte_lpm's tables in MADV_HUGEPAGE
/// memory (fwd_ref.c says why a copy).
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class ForwardingBenchmarks
{
    private const int Batch = 4096;
    private const int Stride = 2048;
    private const int FrameLength = 64;
    private const int Gateways = 16;
    private static readonly MacAddress IngressMac = MacAddress.Parse("02:00:00:00:00:01");

    private static (int Prefixes, bool HugePages)? s_built;
    private static Ipv4FastForwarder? s_fast;
    private static RteForwardReference? s_reference;
    private static byte[]? s_template;
    private static int s_refusedEgress;

    private readonly byte[] _ours = GC.AllocateArray<byte>(Batch * Stride, pinned: true);
    private readonly byte[] _theirs = GC.AllocateArray<byte>(Batch * Stride, pinned: true);
    private readonly Frame[] _frames = new Frame[Batch];
    private readonly Frame[] _theirFrames = new Frame[Batch];
    private readonly ForwardVerdict[] _verdicts = new ForwardVerdict[Batch];
    private readonly byte[] _theirVerdicts = new byte[Batch];
    private readonly int[] _egress = new int[Batch];
    private readonly int[] _theirEgress = new int[Batch];

    // Declared first so that every small-page run comes before any huge-page run (as in LpmBenchmarks): freed tables'
    // advised memory could otherwise be reused by the GC for a later small-page table.
    [Params(false, true)]
    public bool HugePages { get; set; }

    // 1,000,000: a full Internet IPv4 table (issue 14), to compare with the 100,000 row.
    [Params(1_000, 100_000, 1_000_000)]
    public int Prefixes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (s_built != (Prefixes, HugePages))
            Build(Prefixes, HugePages);
        for (int i = 0; i < Batch; i++)
        {
            _frames[i] = new Frame(i * Stride, FrameLength);
            _theirFrames[i] = new Frame(i * Stride, FrameLength);
        }
        s_template!.CopyTo(_ours, 0);
        s_template.CopyTo(_theirs, 0);

        int ours = s_fast!.Forward(new NicId(1), _ours, _frames, _verdicts, _egress);
        if (ours != Batch)
            throw new InvalidOperationException($"the fast path forwarded {ours} of {Batch}");
        foreach (bool bulk in (bool[])[true, false])
        {
            s_template.CopyTo(_theirs, 0);
            for (int i = 0; i < Batch; i++)
                _theirFrames[i] = new Frame(i * Stride, FrameLength);
            int theirs = s_reference!.Forward(_theirs, _theirFrames, _theirVerdicts, _theirEgress, s_refusedEgress, bulk);
            if (theirs != Batch)
                throw new InvalidOperationException($"C (bulk {bulk}) forwarded {theirs} of {Batch}");
            for (int i = 0; i < Batch; i++)
            {
                if (_egress[i] != _theirEgress[i] || _frames[i].Length != _theirFrames[i].Length
                    || !_ours.AsSpan(i * Stride, FrameLength).SequenceEqual(_theirs.AsSpan(i * Stride, FrameLength)))
                    throw new InvalidOperationException($"frame {i}: egress {_egress[i]} vs {_theirEgress[i]} (C, bulk {bulk}), or lengths or bytes differ");
            }
        }
        Console.WriteLine($"// {Prefixes} prefixes, huge pages {HugePages}: the fast path and the C loop with rte_lpm_lookupx4 and with "
            + $"rte_lpm_lookup_bulk forward all {Batch} frames identically; {AnonHugePages()}");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "C fwd_ref (rte_lpm_lookupx4)")]
    public int ReferenceX4()
    {
        int n = s_reference!.Forward(_theirs, _theirFrames, _theirVerdicts, _theirEgress, s_refusedEgress, bulk: false);
        RefreshTtlIfLow(_theirs);
        return n;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "C fwd_ref (rte_lpm_lookup_bulk)")]
    public int ReferenceBulk()
    {
        int n = s_reference!.Forward(_theirs, _theirFrames, _theirVerdicts, _theirEgress, s_refusedEgress, bulk: true);
        RefreshTtlIfLow(_theirs);
        return n;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "Ipv4FastForwarder.Forward")]
    public int FastPath()
    {
        int n = s_fast!.Forward(new NicId(1), _ours, _frames, _verdicts, _egress);
        RefreshTtlIfLow(_ours);
        return n;
    }

    private static void RefreshTtlIfLow(byte[] memory)
    {
        if (memory[22] >= 3)
            return;
        for (int i = 0; i < Batch; i++)
        {
            Span<byte> ip = memory.AsSpan(i * Stride + 14, 20);
            ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(ip[8..]);
            ushort newWord = (ushort)((255 << 8) | ip[9]);
            ip[8] = 255;
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Update(BinaryPrimitives.ReadUInt16BigEndian(ip[10..]), oldWord, newWord));
        }
    }

    private static void Build(int count, bool hugePages)
    {
        s_reference?.Dispose();
        s_fast = null;
        GC.Collect();
        var random = new Random(11);

        // The router: NIC 1 receives; NICs 2..17 each reach one gateway whose MAC is NIC 1's (see remarks).
        var stack = new NetworkStack();
        stack.CreateNic(new NicId(1), new ChannelEndpoint(IngressMac, batchCapacity: 1, outboundCapacity: 1), "in");
        stack.AddAddress(new NicId(1), Ipv4Address.Parse("198.18.0.1"), 24);
        stack.Ipv4Forwarder = new Ipv4Forwarder();
        stack.SetForwarding(new NicId(1), EtherType.Ipv4, true, out _);
        var hops = new List<(byte[] Macs, int Port, int Mtu)>();
        var gateways = new Ipv4Address[Gateways];
        for (int g = 0; g < Gateways; g++)
        {
            var mac = new MacAddress(0x0200_0000_0100UL | (uint)g);
            var nic = new NicId(g + 2);
            stack.CreateNic(nic, new ChannelEndpoint(mac, batchCapacity: 1, outboundCapacity: 1), "out" + g);
            gateways[g] = new Ipv4Address(0xC612_0100u + (uint)(g << 8) + 1);   // 198.18.(1+g).1
            stack.Nics[nic].Neighbors.AddStatic(gateways[g], IngressMac);
            byte[] macs = new byte[12];
            IngressMac.CopyTo(macs);
            mac.CopyTo(macs.AsSpan(6));
            hops.Add((macs, g + 2, 1500));
        }

        // Random routed prefixes /8../32 outside special ranges and 198.18.0.0/15.
        var seen = new HashSet<(uint, int)>();
        var prefixes = new uint[count];
        var lengths = new byte[count];
        var hopIds = new uint[count];
        var routes = new List<Ipv4Route>();
        for (int g = 0; g < Gateways; g++)
            routes.Add(new Ipv4Route(new Ipv4Prefix(new Ipv4Address(gateways[g].Value & 0xFFFF_FF00), 24), Ipv4Address.Any, g + 2));
        routes.Add(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.0.0"), 24), Ipv4Address.Any, 1));
        for (int n = 0; n < count;)
        {
            int length = random.Next(8, 33);
            uint address = (uint)random.NextInt64(0, 1L << 32) & Ipv4LpmBuilder.Mask(length);
            uint top = address >> 24;
            if (top is 0 or 127 or 169 or 198 || top >= 224 || !seen.Add((address, length)))
                continue;
            int g = random.Next(Gateways);
            prefixes[n] = address;
            lengths[n] = (byte)length;
            hopIds[n] = (uint)g;
            routes.Add(new Ipv4Route(new Ipv4Prefix(new Ipv4Address(address), length), gateways[g], g + 2));
            n++;
        }
        stack.SetRoutes(routes, []);
        s_fast = new Ipv4FastForwarder(stack, hugePages);
        // The C loop makes the same hairpin compare as the fast path, against the same NIC (none leaves by it here).
        s_refusedEgress = s_fast.Snapshot.Ingress[1].HairpinAllowed ? -1 : 1;

        uint tbl8s = (uint)(s_fast.Snapshot.Lpm.Tbl8GroupCount + 64);
        s_reference = new RteForwardReference(prefixes, lengths, hopIds, tbl8s, hops, IngressBytes(), [0xC612_00FFu]);
        if (hugePages)
            s_reference.UseHugePages();

        // The batch: 64-byte UDP frames from 198.18.0.10 to a random address of a random prefix.
        s_template = new byte[Batch * Stride];
        var source = Ipv4Address.Parse("198.18.0.10");
        for (int i = 0; i < Batch; i++)
        {
            int k = random.Next(count);
            uint host = lengths[k] == 32 ? 0 : (uint)random.NextInt64(0, 1L << 32) & ~Ipv4LpmBuilder.Mask(lengths[k]);
            Span<byte> frame = s_template.AsSpan(i * Stride, FrameLength);
            new EthernetHeader(IngressMac, MacAddress.Parse("02:00:00:00:00:0a"), EtherType.Ipv4).Emit(frame);
            new Ipv4Header(source, new Ipv4Address(prefixes[k] | host), IpProtocol.Udp, 255, FrameLength - 34).Emit(frame[14..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[34..], 5000);
            BinaryPrimitives.WriteUInt16BigEndian(frame[36..], 6000);
            BinaryPrimitives.WriteUInt16BigEndian(frame[38..], FrameLength - 34);
        }
        s_built = (count, hugePages);
    }

    private static string AnonHugePages()
    {
        string? line = File.ReadLines("/proc/self/smaps_rollup").FirstOrDefault(l => l.StartsWith("AnonHugePages:", StringComparison.Ordinal));
        return line is null ? "AnonHugePages unknown" : string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
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
