using System.Buffers.Binary;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.EcmpFixture;

namespace XdpStack.Stack.Tests.Routing;

// The flow hash alone: which fields it reads under each policy, and how evenly it fills the buckets.
public class MultipathHashTests
{
    private static readonly MultipathHash L4 = new(MultipathHashPolicy.Layer4, 0x1234_5678_9ABC);
    private static readonly MultipathHash L3 = new(MultipathHashPolicy.Layer3, 0x1234_5678_9ABC);

    private static uint Hash4(MultipathHash hash, byte[] frame) =>
        hash.OfIpv4(frame.AsSpan(14, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(16))));

    private static uint Hash6(MultipathHash hash, byte[] frame) =>
        hash.OfIpv6(frame.AsSpan(14, 40 + BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(18))));

    [Fact]
    public void OfIpv4_Layer4_PortsAndProtocolCountTtlIdAndLengthDoNot()
    {
        uint flow = Hash4(L4, Flow4(Beyond4, 20000));
        Assert.Equal(flow, Hash4(L4, Flow4(Beyond4, 20000, ttl: 3, id: 999, payloadLength: 900)));
        Assert.NotEqual(flow, Hash4(L4, Flow4(Beyond4, 20001)));
        Assert.NotEqual(flow, Hash4(L4, Flow4(Beyond4, 20000, destinationPort: 444)));
        Assert.NotEqual(flow, Hash4(L4, Flow4(Beyond4, 20000, protocol: 6)));
        Assert.NotEqual(flow, Hash4(L4, Flow4(new Ipv4Address(Beyond4.Value + 1), 20000)));
    }

    [Theory]
    [InlineData((ushort)0x2000)]        // first fragment: ports present, still L3
    [InlineData((ushort)0x2000 | 185)]  // a middle one
    [InlineData((ushort)185)]           // the last
    public void OfIpv4_AnyFragment_Layer3(ushort flagsFragment)
    {
        uint l3 = Hash4(L3, Flow4(Beyond4, 1));
        Assert.Equal(l3, Hash4(L4, Flow4(Beyond4, 20000, flagsFragment: flagsFragment)));
        Assert.Equal(l3, Hash4(L4, Flow4(Beyond4, 777, flagsFragment: flagsFragment, protocol: 6)));
        // Don't Fragment alone is no fragment.
        Assert.NotEqual(l3, Hash4(L4, Flow4(Beyond4, 20000, flagsFragment: 0x4000)));
    }

    [Fact]
    public void OfIpv4_OtherProtocolsAndTruncatedPorts_Layer3()
    {
        uint l3 = Hash4(L3, Flow4(Beyond4, 1));
        Assert.Equal(l3, Hash4(L4, Flow4(Beyond4, 20000, protocol: 1)));
        Assert.Equal(l3, Hash4(L4, Flow4(Beyond4, 20000, protocol: 47)));
        byte[] threeOctets = Packets.Ipv4(Host4, Beyond4, 17, [0x4E, 0x20, 0x01]);
        Assert.Equal(l3, Hash4(L4, threeOctets));
        Assert.Equal(l3, Hash4(L3, Flow4(Beyond4, 20000)));
    }

    [Fact]
    public void OfIpv6_Layer4IgnoresTheFlowLabelLayer3UsesIt()
    {
        uint flow = Hash6(L4, Flow6(Beyond6, 20000, flowLabel: 1));
        Assert.Equal(flow, Hash6(L4, Flow6(Beyond6, 20000, flowLabel: 2, hopLimit: 3, payloadLength: 700)));
        Assert.NotEqual(flow, Hash6(L4, Flow6(Beyond6, 20001, flowLabel: 1)));
        Assert.NotEqual(Hash6(L3, Flow6(Beyond6, 20000, flowLabel: 1)), Hash6(L3, Flow6(Beyond6, 20000, flowLabel: 2)));
        Assert.Equal(Hash6(L3, Flow6(Beyond6, 20000, flowLabel: 1)), Hash6(L3, Flow6(Beyond6, 1, flowLabel: 1)));
        // Another source or destination, anywhere in the 128 bits, is another flow.
        Assert.NotEqual(flow, Hash6(L4, Flow6(new Ipv6Address(Beyond6.High, Beyond6.Low ^ 1UL << 40), 20000, flowLabel: 1)));
        Assert.NotEqual(flow, Hash6(L4, Flow6(Beyond6, 20000, flowLabel: 1, source: new Ipv6Address(Host6.High ^ 1, Host6.Low))));
    }

    [Fact]
    public void OfIpv6_FragmentsAndExtensionHeaders_Layer3WithTheFlowLabel()
    {
        uint l3 = Hash6(L3, Flow6(Beyond6, 1, flowLabel: 5));
        byte[] first = Fragment6(Beyond6, 0, more: true, 7, Payload(20000, 443, 32), flowLabel: 5);
        byte[] last = Fragment6(Beyond6, 32, more: false, 7, new byte[8], flowLabel: 5);
        Assert.Equal(l3, Hash6(L4, first));
        Assert.Equal(l3, Hash6(L4, last));
        Assert.Equal(l3, Hash6(L4, Flow6(Beyond6, 20000, nextHeader: 60, flowLabel: 5)));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(0xDEAD_BEEFUL)]
    [InlineData(ulong.MaxValue)]
    public void Buckets_65536SequentialFlows_UniformByChiSquare(ulong seed)
    {
        // 256 buckets, 256 flows expected in each; chi-square with 255 degrees of freedom has mean 255 and standard
        // deviation 22.6, and exceeds 345 with probability below 1e-4. Flows differ only in the source port and the
        // last source octet, the inputs a poor hash would spread worst.
        var hash = new MultipathHash(MultipathHashPolicy.Layer4, seed);
        int[] v4 = new int[256], v6 = new int[256];
        byte[] frame4 = Flow4(Beyond4, 0);
        byte[] frame6 = Flow6(Beyond6, 0);
        for (int i = 0; i < 65536; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame4.AsSpan(34), (ushort)(i >> 4));
            frame4[29] = (byte)(i & 15);
            BinaryPrimitives.WriteUInt16BigEndian(frame6.AsSpan(54), (ushort)(i >> 4));
            frame6[37] = (byte)(i & 15);
            v4[Hash4(hash, frame4) & 255]++;
            v6[Hash6(hash, frame6) & 255]++;
        }
        Assert.InRange(ChiSquare(v4), 0, 345);
        Assert.InRange(ChiSquare(v6), 0, 345);
    }

    private static double ChiSquare(int[] counts)
    {
        double expected = counts.Sum() / (double)counts.Length;
        return counts.Sum(c => (c - expected) * (c - expected) / expected);
    }
}
