using System.Buffers.Binary;
using CsCheck;
using XdpStack.Stack.FastPath;
using XdpStack.Stack.Link;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using Xunit.Abstractions;
using static XdpStack.Stack.Tests.Fakes.EcmpFixture;

namespace XdpStack.Stack.Tests.FastPath;

// Both fast paths against the full stack on multipath routes: every frame a fast path takes leaves by the NIC, to the
// MAC and with the bytes the full stack gives it, whatever its protocol, fragment flags, ports and the NICs' states.
public class MultipathFastPathTests(ITestOutputHelper output)
{
    private readonly ITestOutputHelper _output = output;

    public enum Scenario
    {
        AllUp,
        NicDown,
        RouteRemoved,
        GatewayUnresolved,
        Layer3,
    }

    // The fixture in the scenario's state; 20 single routes put lookups on the LPMs.
    private static EcmpFixture Make(Scenario scenario)
    {
        var f = new EcmpFixture(scenario == Scenario.Layer3 ? MultipathHashPolicy.Layer3 : MultipathHashPolicy.Layer4, extraRoutes: 20);
        switch (scenario)
        {
            case Scenario.NicDown:
                Assert.Equal(StackError.None, f.Stack.DisableNic(PathNic(1)));
                break;
            case Scenario.RouteRemoved:
                Assert.True(f.Stack.RemoveRoute(Route4(2)));
                Assert.True(f.Stack.RemoveRoute(Route6(2)));
                break;
            case Scenario.GatewayUnresolved:
                Assert.True(f.Stack.Nics[PathNic(3)].Neighbors.Remove(Gateway4(3)));
                Assert.True(f.Stack.Nics[PathNic(3)].Ipv6Neighbors.Remove(Gateway6(3)));
                break;
        }
        return f;
    }

    // Mostly flows behind the multipath routes; some to single routes, a gateway (an on-link /32), the router itself.
    private static Gen<byte[]> GenFrame4()
    {
        Gen<Ipv4Address> destination = Gen.Frequency(
            (8, Gen.Int[0, 0xFFFF].Select(i => new Ipv4Address(Multipath4.Address.Value | (uint)i))),
            (1, Gen.Int[0, 19].Select(i => Ipv4Address.Parse($"198.18.{64 + i}.9"))),
            (1, Gen.Int[0, Paths - 1].Select(Gateway4)),
            (1, Gen.Const(Ipv4Address.Parse("198.18.2.1"))));
        Gen<ushort> fragment = Gen.Frequency(
            (6, Gen.Const((ushort)0)), (2, Gen.Const((ushort)0x4000)), (1, Gen.Const((ushort)0x2000)),
            (1, Gen.Int[1, 0x1FFF].Select(o => (ushort)o)), (1, Gen.Int[1, 0x1FFF].Select(o => (ushort)(0x2000 | o))));
        Gen<byte> protocol = Gen.Frequency((4, Gen.Const((byte)17)), (3, Gen.Const((byte)6)), (1, Gen.Const((byte)1)), (1, Gen.Const((byte)47)));
        return Gen.Select(destination, Gen.Int[2, 254], protocol, fragment, Gen.Int[0, 64], Gen.UInt, Gen.Int[2, 255])
            .Select((to, host, proto, flags, length, ports, ttl) =>
            {
                byte[] payload = new byte[length];
                for (int i = 0; i < length; i++)
                    payload[i] = (byte)(ports >> (8 * (i % 4)));
                var source = new Ipv4Address((Host4.Value & 0xFFFF_FF00) | (uint)host);
                return Packets.Ipv4(source, to, proto, payload, ttl: (byte)ttl, id: (ushort)ports, flagsFragment: flags, to: IngressMac, from: HostMac);
            });
    }

    private static Gen<byte[]> GenFrame6()
    {
        Gen<Ipv6Address> destination = Gen.Frequency(
            (8, Gen.Select(Gen.Int[0, 0x7FFF], Gen.ULong).Select((high, low) => new Ipv6Address(Multipath6.Address.High | (uint)high, low))),
            (1, Gen.Int[0, 19].Select(i => Ipv6Address.Parse($"2001:2:0:{64 + i:x}::9"))),
            (1, Gen.Int[0, Paths - 1].Select(Gateway6)),
            (1, Gen.Const(Ipv6Address.Parse("2001:2:0:2::1"))));
        // UDP, TCP, ICMPv6, Fragment, Destination Options; Hop-by-Hop goes to the full stack before any lookup.
        Gen<byte> nextHeader = Gen.Frequency((4, Gen.Const((byte)17)), (3, Gen.Const((byte)6)), (1, Gen.Const((byte)58)),
            (1, Gen.Const((byte)44)), (1, Gen.Const((byte)60)), (1, Gen.Const((byte)0)));
        return Gen.Select(destination, Gen.Int[2, 0xFFFF], nextHeader, Gen.Int[0, 64], Gen.UInt, Gen.Int[2, 255], Gen.Int[0, 0xF_FFFF])
            .Select((to, host, next, length, ports, hopLimit, label) =>
            {
                byte[] payload = new byte[length];
                for (int i = 0; i < length; i++)
                    payload[i] = (byte)(ports >> (8 * (i % 4)));
                var source = new Ipv6Address(Host6.High, (ulong)host);
                byte[] frame = Packets6.Ipv6(source, to, next, payload, (byte)hopLimit, to: IngressMac, from: HostMac);
                BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(14), 0x6000_0000u | (uint)label);
                return frame;
            });
    }

    [Theory]
    [InlineData(false, Scenario.AllUp)]
    [InlineData(false, Scenario.NicDown)]
    [InlineData(false, Scenario.RouteRemoved)]
    [InlineData(false, Scenario.GatewayUnresolved)]
    [InlineData(false, Scenario.Layer3)]
    [InlineData(true, Scenario.AllUp)]
    [InlineData(true, Scenario.NicDown)]
    [InlineData(true, Scenario.RouteRemoved)]
    [InlineData(true, Scenario.GatewayUnresolved)]
    [InlineData(true, Scenario.Layer3)]
    public void Forward_RandomBatches_FastOutputEqualsFullStackOutput(bool ipv6, Scenario scenario)
    {
        EcmpFixture f = Make(scenario);
        using var fast4 = new Ipv4FastForwarder(f.Stack);
        using var fast6 = new Ipv6FastForwarder(f.Stack);
        FastForward forward = ipv6 ? fast6.Forward : fast4.Forward;
        const int slot = 256;
        byte[] memory = new byte[300 * slot];
        var descriptors = new Frame[300];
        var verdicts = new ForwardVerdict[300];
        int[] egress = new int[300];
        int total = 0, taken = 0;
        int[] takenByPath = new int[Paths];
        (ipv6 ? GenFrame6() : GenFrame4()).Array[1, 300].Sample(batch =>
        {
            for (int i = 0; i < batch.Length; i++)
            {
                int offset = i * slot + (i * 13 % 64);
                batch[i].CopyTo(memory, offset);
                descriptors[i] = new Frame(offset, batch[i].Length);
            }
            int forwarded = forward(Ingress, memory, descriptors.AsSpan(0, batch.Length), verdicts.AsSpan(0, batch.Length), egress.AsSpan(0, batch.Length));
            int counted = 0;
            for (int i = 0; i < batch.Length; i++)
            {
                byte[] outputBytes = memory.AsSpan(descriptors[i].Offset, descriptors[i].Length).ToArray();
                if (verdicts[i] != ForwardVerdict.Forward)
                {
                    Assert.Equal(ForwardVerdict.SlowPath, verdicts[i]);
                    Assert.Equal(batch[i], outputBytes);
                    continue;
                }
                (int path, byte[]? full) = f.Forward(batch[i]);
                Assert.True(path >= 0, "the fast path forwarded a frame the full stack did not send by any path");
                Assert.Equal(PathNic(path).Value, egress[i]);
                Assert.Equal(full, outputBytes);
                if (ipv6 ? Multipath6.Contains(new Ipv6Address(batch[i].AsSpan(38, 16))) : Multipath4.Contains(Ipv4Address.Read(batch[i].AsSpan(30))))
                    takenByPath[path]++;
                counted++;
            }
            Assert.Equal(counted, forwarded);
            total += batch.Length;
            taken += counted;
        }, iter: 40, threads: 1);
        _output.WriteLine($"{scenario}: {taken} of {total} taken; by path {string.Join(" ", takenByPath)}");
        // The comparison means little unless the fast path really takes multipath frames, over every path that can
        // (takenByPath counts only frames to the multipath prefix).
        Assert.True(taken >= total * 3 / 10, $"only {taken} of {total} frames taken");
        for (int p = 0; p < Paths; p++)
        {
            bool closed = (scenario == Scenario.NicDown && p == 1) || (scenario == Scenario.RouteRemoved && p == 2)
                || (scenario == Scenario.GatewayUnresolved && p == 3);
            if (closed)
                Assert.Equal(0, takenByPath[p]);
            else
                Assert.True(takenByPath[p] > 0, $"nothing taken by path {p}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_ThousandFlows_SamePathsAsTheFullStack(bool ipv6)
    {
        // The same thousand flows the full-stack tests spread, one frame each, through the fast path.
        var f = new EcmpFixture(extraRoutes: 20);
        using var fast4 = new Ipv4FastForwarder(f.Stack);
        using var fast6 = new Ipv6FastForwarder(f.Stack);
        FastForward forward = ipv6 ? fast6.Forward : fast4.Forward;
        for (int i = 0; i < 1000; i++)
        {
            byte[] frame = ipv6 ? Flow6(Beyond6, (ushort)(20000 + i)) : Flow4(Beyond4, (ushort)(20000 + i));
            (ForwardVerdict verdict, int nic, byte[] fastOutput) = FastPathRuns.One(forward, Ingress, frame);
            Assert.Equal(ForwardVerdict.Forward, verdict);
            (int path, byte[]? full) = f.Forward(frame);
            Assert.Equal(PathNic(path).Value, nic);
            Assert.Equal(full, fastOutput);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_MultipathBatches_AllocateNothing(bool ipv6)
    {
        var f = new EcmpFixture(extraRoutes: 20);
        using var fast4 = new Ipv4FastForwarder(f.Stack);
        using var fast6 = new Ipv6FastForwarder(f.Stack);
        byte[] frame = ipv6 ? Flow6(Beyond6, 20001) : Flow4(Beyond4, 20001);
        (long allocated, int forwarded) = FastPathRuns.Batch(ipv6 ? fast6.Forward : fast4.Forward, Ingress, frame, 256);
        Assert.Equal(256, forwarded);
        Assert.Equal(0, allocated);
    }
}
