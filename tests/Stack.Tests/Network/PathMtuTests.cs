using System.Buffers.Binary;
using XdpStack.Stack.Network;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.Network.Ipv6;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network;

// Path MTU discovery for the stack's own packets, as a Linux host does it (checked on the wire against Linux,
// tools/linux-diff/probes/pmtu.txt): a Fragmentation Needed or Packet Too Big about a packet we sent cuts what we
// send that destination afterwards, for ten minutes.
public class PathMtuTests
{
    // A Fragmentation Needed from the host about a 1,428-octet packet from `quotedSource` to the host.
    private static byte[] FragmentationNeeded(int mtu, Ipv4Address quotedSource)
    {
        byte[] quoted = Packets.Ipv4(quotedSource, Packets.HostIp, 1, new byte[8], id: 0x4444)[14..];
        BinaryPrimitives.WriteUInt16BigEndian(quoted.AsSpan(2), 1428);
        byte[] rest = new byte[4 + 28];
        BinaryPrimitives.WriteUInt16BigEndian(rest.AsSpan(2), (ushort)mtu);
        quoted.AsSpan(0, 28).CopyTo(rest.AsSpan(4));
        return Packets.Ipv4(Packets.HostIp, Packets.StackIp, 1, Packets.Icmp(3, 4, rest));
    }

    private static List<byte[]> Echo1400(StackFixture f) =>
        f.Exchange(Packets.EchoRequest(Packets.HostIp, Packets.StackIp, dataLength: 1400));

    [Fact]
    public void Ipv4_FragmentationNeeded_EchoRepliesCutToTheNewMtu()
    {
        var f = new StackFixture();
        Assert.Single(Echo1400(f));
        Assert.Empty(f.Exchange(FragmentationNeeded(1000, Packets.StackIp)));
        List<byte[]> reply = Echo1400(f);
        Assert.Equal(2, reply.Count);
        // 976 octets of data in the first (the MTU less the header, in eights), as Linux cuts it.
        Assert.Equal(14 + 996, reply[0].Length);
        Assert.Equal(0x2000, BinaryPrimitives.ReadUInt16BigEndian(reply[0].AsSpan(20)));
        Assert.Equal(976 / 8, BinaryPrimitives.ReadUInt16BigEndian(reply[1].AsSpan(20)));
        Assert.Equal(1428, reply.Sum(r => r.Length - 34) + 20);
    }

    [Fact]
    public void Ipv4_MtuBelow552_Taken552AsLinux()
    {
        var f = new StackFixture();
        f.Exchange(FragmentationNeeded(500, Packets.StackIp));
        List<byte[]> reply = Echo1400(f);
        Assert.Equal(3, reply.Count);
        Assert.All(reply, r => Assert.True(r.Length - 14 <= 552));
        Assert.Equal(14 + 548, reply[0].Length);
    }

    [Fact]
    public void Ipv4_AboutAPacketNotOurs_Ignored()
    {
        var f = new StackFixture();
        f.Exchange(FragmentationNeeded(1000, Ipv4Address.Parse("198.18.99.1")));
        Assert.Single(Echo1400(f));
    }

    [Fact]
    public void Ipv4_TenMinutesLater_TheLinkMtuAgain_AndALargerMtuNeverRaisesIt()
    {
        var f = new StackFixture();
        f.Exchange(FragmentationNeeded(1000, Packets.StackIp));
        f.Exchange(FragmentationNeeded(1200, Packets.StackIp));
        Assert.Equal(14 + 996, Echo1400(f)[0].Length);
        f.Clock.Advance(PathMtuCache.Lifetime);
        Assert.Single(Echo1400(f));
    }

    private static byte[] PacketTooBig(int mtu)
    {
        byte[] quoted = new byte[48];
        quoted[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(quoted.AsSpan(4), 1408);
        quoted[6] = 58;
        quoted[7] = 64;
        Packets6.StackIp.CopyTo(quoted.AsSpan(8));
        Packets6.HostIp.CopyTo(quoted.AsSpan(24));
        quoted[40] = 129;
        return Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 58, Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 2, 0, (uint)mtu, quoted));
    }

    private static List<byte[]> Echo6(StackFixture f) =>
        f.Exchange(Packets6.EchoRequest(Packets6.HostIp, Packets6.StackIp, dataLength: 1392));

    [Fact]
    public void Ipv6_PacketTooBig_EchoRepliesFragmentedToIt()
    {
        StackFixture f = Ipv6Fixture.Create();
        Assert.Single(Echo6(f));
        Assert.Empty(f.Exchange(PacketTooBig(1300)));
        List<byte[]> reply = Echo6(f);
        Assert.Equal(2, reply.Count);
        Assert.All(reply, r => Assert.Equal(44, r[20]));
        // 1,248 octets of data after the fixed and Fragment headers: 1,296 on the wire.
        Assert.Equal(14 + 40 + 8 + 1248, reply[0].Length);
    }

    [Fact]
    public void Ipv6_PacketTooBigBelow1280_Ignored()
    {
        StackFixture f = Ipv6Fixture.Create();
        f.Exchange(PacketTooBig(1000));
        Assert.Single(Echo6(f));
    }

    [Fact]
    public void Forwarded_PacketsCutToTheLinkMtuOnly_AsLinuxWithoutIpForwardUsePmtu()
    {
        var f = new RouterFixture(mtu2: 1280);
        // The stack learns 1000 toward host B from a Fragmentation Needed about a packet it sent there itself.
        byte[] quoted = Packets.Ipv4(RouterFixture.Ip2, RouterFixture.HostB, 1, new byte[8])[14..42];
        BinaryPrimitives.WriteUInt16BigEndian(quoted.AsSpan(2), 1428);
        byte[] rest = [0, 0, 0x03, 0xE8, .. quoted];
        f.Link2.InjectInbound(Packets.Ipv4(RouterFixture.HostB, RouterFixture.Ip2, 1, Packets.Icmp(3, 4, rest), to: RouterFixture.Mac2, from: RouterFixture.HostBMac));
        Assert.Equal(1000, f.Stack.PathMtus.Get(RouterFixture.HostB, 1280));
        // A forwarded 1,428-octet packet without DF is still cut to the egress link's 1280, not to 1000.
        f.Link1.InjectInbound(RouterFixture.FromA(RouterFixture.HostB, payloadLength: 1400));
        List<byte[]> fragments = f.Link2.ReadAll();
        Assert.Equal(2, fragments.Count);
        Assert.Equal(14 + 20 + ((1280 - 20) & ~7), fragments[0].Length);
    }
}
