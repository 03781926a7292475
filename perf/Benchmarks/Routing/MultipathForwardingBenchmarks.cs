using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using XdpStack.Stack;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Wire;

namespace XdpStack.Benchmarks.Routing;

/// <summary>What ECMP costs the fast paths: one prefix through <see cref="Paths"/> next hops (1: a plain route, no group) under each policy, IPv4 and IPv6.</summary>
/// <remarks>
/// 4,096 64-byte (IPv4) or 78-byte (IPv6) UDP frames, one per 2 KiB chunk as in a UMEM, each its own flow (source
/// port 1024 + i) to one address behind 198.19.0.0/16 or 2001:2:0:8000::/49. With one path the LPM gives the hop
/// directly; with more, each frame is hashed (<see cref="MultipathHash"/>) and its hop read from the group's bucket, so
/// the difference per frame is the multipath step alone. As in <see cref="ForwardingBenchmarks"/>, every gateway's MAC
/// is the ingress NIC's own, so forwarded frames stay forwardable and only the TTL wears out; it is set back to 255
/// every 253rd pass. Setup checks that every frame is forwarded and, with more than one path, that each path gets a share.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class MultipathForwardingBenchmarks
{
    private const int Batch = 4096;
    private const int Stride = 2048;
    private static readonly MacAddress IngressMac = MacAddress.Parse("02:00:00:00:00:01");

    private readonly byte[] _memory = GC.AllocateArray<byte>(Batch * Stride, pinned: true);
    private readonly Frame[] _frames = new Frame[Batch];
    private readonly ForwardVerdict[] _verdicts = new ForwardVerdict[Batch];
    private readonly int[] _egress = new int[Batch];
    private Ipv4FastForwarder? _fast4;
    private Ipv6FastForwarder? _fast6;
    private int _frameLength;

    [Params(false, true)]
    public bool Ipv6 { get; set; }

    [Params(1, 4, 16)]
    public int Paths { get; set; }

    [Params(MultipathHashPolicy.Layer4, MultipathHashPolicy.Layer3)]
    public MultipathHashPolicy Policy { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var stack = new NetworkStack(new StackOptions { MultipathHashPolicy = Policy, MultipathHashSeed = 1 });
        stack.CreateNic(new NicId(1), new ChannelEndpoint(IngressMac, batchCapacity: 1, outboundCapacity: 1), "in");
        stack.AddAddress(new NicId(1), Ipv4Address.Parse("198.18.0.1"), 24);
        stack.AddAddress(new NicId(1), Ipv6Address.Parse("2001:2:0:1::1"), 64);
        stack.Ipv4Forwarder = new Ipv4Forwarder();
        stack.Ipv6Forwarder = new Ipv6Forwarder();
        stack.SetForwarding(new NicId(1), EtherType.Ipv4, true, out _);
        stack.SetForwarding(new NicId(1), EtherType.Ipv6, true, out _);
        var ipv4 = new List<Ipv4Route> { new(new Ipv4Prefix(Ipv4Address.Parse("198.18.0.0"), 24), Ipv4Address.Any, 1) };
        var ipv6 = new List<Ipv6Route> { new(Ipv6Prefix.Parse("2001:2:0:1::/64"), Ipv6Address.Any, 1) };
        for (int p = 0; p < Paths; p++)
        {
            var nic = new NicId(p + 2);
            stack.CreateNic(nic, new ChannelEndpoint(new MacAddress(0x0200_0000_0100UL | (uint)p), batchCapacity: 1, outboundCapacity: 1), "out" + p);
            var gateway4 = new Ipv4Address(0xC612_0100u + (uint)(p << 8) + 1);   // 198.18.(1+p).1
            var gateway6 = Ipv6Address.Parse($"2001:2:0:{p + 2:x}::1");
            stack.Nics[nic].Neighbors.AddStatic(gateway4, IngressMac);
            stack.Nics[nic].Ipv6Neighbors.AddStatic(gateway6, IngressMac);
            ipv4.Add(new Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.19.0.0"), 16), gateway4, nic.Value));
            ipv6.Add(new Ipv6Route(Ipv6Prefix.Parse("2001:2:0:8000::/49"), gateway6, nic.Value));
        }
        stack.SetRoutes(ipv4, ipv6);
        _fast4 = new Ipv4FastForwarder(stack);
        _fast6 = new Ipv6FastForwarder(stack);

        _frameLength = Ipv6 ? 78 : 64;
        for (int i = 0; i < Batch; i++)
        {
            Span<byte> frame = _memory.AsSpan(i * Stride, _frameLength);
            new EthernetHeader(IngressMac, MacAddress.Parse("02:00:00:00:00:0a"), Ipv6 ? EtherType.Ipv6 : EtherType.Ipv4).Emit(frame);
            Span<byte> udp;
            if (Ipv6)
            {
                Span<byte> ip = frame[14..];
                ip.Clear();
                ip[0] = 0x60;
                BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(_frameLength - 54));
                ip[6] = 17;
                ip[7] = 255;
                Ipv6Address.Parse("2001:2:0:1::a").CopyTo(ip[8..]);
                Ipv6Address.Parse("2001:2:0:8001::7").CopyTo(ip[24..]);
                udp = ip[40..];
            }
            else
            {
                new Ipv4Header(Ipv4Address.Parse("198.18.0.10"), Ipv4Address.Parse("198.19.7.7"), IpProtocol.Udp, 255, _frameLength - 34).Emit(frame[14..]);
                udp = frame[34..];
            }
            BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)(1024 + i));
            BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 443);
            BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udp.Length);
            _frames[i] = new Frame(i * Stride, _frameLength);
        }

        int forwarded = Forward();
        if (forwarded != Batch)
            throw new InvalidOperationException($"forwarded {forwarded} of {Batch}");
        int used = _egress.Distinct().Count();
        int expected = Policy == MultipathHashPolicy.Layer3 ? 1 : Paths;
        if (used != expected)
            throw new InvalidOperationException($"{used} paths used, expected {expected}");
        Console.WriteLine($"// {(Ipv6 ? "IPv6" : "IPv4")}, {Paths} paths, {Policy}: all {Batch} frames forwarded over {used} paths");
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "fast path, one prefix over Paths next hops")]
    public int FastPath()
    {
        int n = Forward();
        RefreshTtlIfLow();
        return n;
    }

    private int Forward() => Ipv6
        ? _fast6!.Forward(new NicId(1), _memory, _frames, _verdicts, _egress)
        : _fast4!.Forward(new NicId(1), _memory, _frames, _verdicts, _egress);

    private void RefreshTtlIfLow()
    {
        if (Ipv6)
        {
            if (_memory[21] >= 3)
                return;
            for (int i = 0; i < Batch; i++)
                _memory[i * Stride + 21] = 255;
            return;
        }
        if (_memory[22] >= 3)
            return;
        for (int i = 0; i < Batch; i++)
        {
            Span<byte> ip = _memory.AsSpan(i * Stride + 14, 20);
            ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(ip[8..]);
            ushort newWord = (ushort)((255 << 8) | ip[9]);
            ip[8] = 255;
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Update(BinaryPrimitives.ReadUInt16BigEndian(ip[10..]), oldWord, newWord));
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithIterationCount(6).WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess"));
    }
}
