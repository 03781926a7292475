using System.Buffers.Binary;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv6;

public class NdpTests
{
    private static readonly MacAddress OtherMac = MacAddress.Parse("02:00:00:00:00:77");

    private static uint Flags(byte[] frame) => BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(58));

    [Fact]
    public void Solicitation_ForOurAddress_SolicitedOverrideAdvertisementInPlace()
    {
        var f = Ipv6Fixture.Create();
        byte[] ns = Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, Packets.HostMac);
        byte[] na = Assert.Single(f.Exchange(ns));
        Assert.Equal(86, na.Length);
        Assert.Equal(Packets.HostMac, MacAddress.Read(na));
        Assert.Equal(Packets.StackMac, MacAddress.Read(na.AsSpan(6)));
        Assert.Equal(255, na[21]);
        Assert.Equal(Packets6.StackIp, Packets6.Source(na));
        Assert.Equal(Packets6.HostIp, Packets6.Destination(na));
        Assert.Equal(Icmpv6Type.NeighborAdvertisement, Ipv6Fixture.TypeOf(na));
        Assert.Equal(0x6000_0000u, Flags(na));
        Assert.Equal(Packets6.StackIp, new Ipv6Address(na.AsSpan(62, 16)));
        // Target link-layer address option.
        Assert.Equal(2, na[78]);
        Assert.Equal(1, na[79]);
        Assert.Equal(Packets.StackMac, MacAddress.Read(na.AsSpan(80)));
        Assert.True(Packets6.IcmpChecksumValid(na));
        Assert.Equal(1, f[StatCounter.NdpAdvertisementsSent]);
    }

    [Fact]
    public void Solicitation_NicForwardingIpv6_AdvertisementCarriesTheRouterFlag()
    {
        // RFC 4861 §7.2.4, and Linux's ndisc_recv_ns: the Router flag follows the interface's forwarding setting.
        var f = Ipv6Fixture.Create();
        Assert.Equal(StackError.None, f.Stack.SetForwarding(StackFixture.Nic1, EtherType.Ipv6, true, out _));
        byte[] na = Assert.Single(f.Exchange(Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, Packets.HostMac)));
        Assert.Equal(0xE000_0000u, Flags(na));
        Assert.True(Packets6.IcmpChecksumValid(na));
        Assert.Equal(StackError.None, f.Stack.SetForwarding(StackFixture.Nic1, EtherType.Ipv6, false, out _));
        na = Assert.Single(f.Exchange(Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, Packets.HostMac)));
        Assert.Equal(0x6000_0000u, Flags(na));
    }

    [Fact]
    public void Solicitation_WithSourceLinkAddress_SenderLearnedStale()
    {
        var f = Ipv6Fixture.Create();
        f.Exchange(Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, OtherMac));
        Assert.True(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out NeighborInfo<Ipv6Address> info));
        Assert.Equal(OtherMac, info.LinkAddress);
        Assert.Equal(NeighborState.Stale, info.State);
    }

    [Fact]
    public void Solicitation_UnicastWithoutOption_AnsweredToEthernetSource()
    {
        var f = Ipv6Fixture.Create();
        byte[] ns = Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, null, destination: Packets6.StackIp);
        byte[] na = Assert.Single(f.Exchange(ns));
        Assert.Equal(Packets.HostMac, MacAddress.Read(na));
        // As Linux's ndisc_send_na answers a solicitation sent to it alone (a reachability probe): Solicited, but
        // not Override, and no Target Link-Layer Address option (checked against Linux on the wire).
        Assert.Equal(0x4000_0000u, Flags(na));
        Assert.Equal(14 + 40 + 24, na.Length);
        Assert.Equal(24, BinaryPrimitives.ReadUInt16BigEndian(na.AsSpan(18)));
        Assert.True(Packets6.IcmpChecksumValid(na));
        Assert.False(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out _));
    }

    [Theory]
    [InlineData(254, 0)]
    [InlineData(64, 0)]
    [InlineData(255, 1)]
    public void Solicitation_HopLimitNot255OrCodeNot0_DroppedUnlearned(byte hopLimit, byte code)
    {
        var f = Ipv6Fixture.Create();
        Assert.Empty(f.Exchange(Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, Packets.HostMac, hopLimit: hopLimit, code: code)));
        Assert.Equal(1, f[StatCounter.NdpInvalidReceived]);
        Assert.False(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out _));
    }

    [Fact]
    public void Solicitation_InAtomicFragment_Dropped()
    {
        var f = Ipv6Fixture.Create();
        byte[] ns = Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, Packets.HostMac);
        Ipv6Address group = Packets6.StackIp.SolicitedNodeMulticast;
        byte[] fragment = Packets6.Fragment(Packets6.HostIp, group, 58, 0, more: false, 7, ns.AsSpan(54));
        fragment[21] = 255;
        Assert.Empty(f.Exchange(fragment));
        Assert.Equal(1, f[StatCounter.NdpInvalidReceived]);
        Assert.False(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out _));
    }

    [Fact]
    public void Solicitation_ForAnotherAddress_Ignored()
    {
        var f = Ipv6Fixture.Create();
        Ipv6Address other = Ipv6Address.Parse("2001:2::3");
        Assert.Empty(f.Exchange(Packets6.Solicitation(Packets6.HostIp, other, Packets.HostMac, destination: Packets6.StackIp.SolicitedNodeMulticast)));
        Assert.Equal(1, f[StatCounter.NdpSolicitationsUnknownTarget]);
    }

    [Fact]
    public void Solicitation_ToUnjoinedGroup_NotForUs()
    {
        var f = Ipv6Fixture.Create();
        Ipv6Address other = Ipv6Address.Parse("2001:2::3:3");
        Assert.Empty(f.Exchange(Packets6.Solicitation(Packets6.HostIp, other, Packets.HostMac)));
        Assert.Equal(1, f[StatCounter.Ipv6InvalidDestinationAddressesReceived]);
    }

    [Fact]
    public void Solicitation_DuplicateAddressDetection_UnsolicitedAdvertisementToAllNodes()
    {
        var f = Ipv6Fixture.Create();
        byte[] na = Assert.Single(f.Exchange(Packets6.Solicitation(Ipv6Address.Any, Packets6.StackIp, null)));
        Assert.Equal(MacAddress.FromIpv6Multicast(Ipv6Address.AllNodes), MacAddress.Read(na));
        Assert.Equal(Ipv6Address.AllNodes, Packets6.Destination(na));
        Assert.Equal(0x2000_0000u, Flags(na));
        Assert.True(Packets6.IcmpChecksumValid(na));
    }

    [Fact]
    public void AddAddress_JoinsSolicitedNodeGroup_CountedAndLeftOnRemove()
    {
        var f = Ipv6Fixture.Create();
        IpAddress group = Packets6.StackIp.SolicitedNodeMulticast;
        Assert.True(f.Nic.IsInGroup(group));
        Assert.Equal(1, f.Nic.GroupJoins(group));
        // 2001:2:0:1::2 shares the low 24 bits, so the same group, now with two joins.
        Ipv6Address sibling = Ipv6Address.Parse("2001:2:0:1::2");
        Assert.Equal(group, (IpAddress)sibling.SolicitedNodeMulticast);
        Assert.Equal(StackError.None, f.Stack.AddAddress(StackFixture.Nic1, sibling, 64));
        Assert.Equal(2, f.Nic.GroupJoins(group));
        Assert.Equal(StackError.None, f.Stack.RemoveAddress(StackFixture.Nic1, sibling));
        Assert.Equal(1, f.Nic.GroupJoins(group));
        Assert.True(f.Nic.IsInGroup(group));
        Assert.Equal(StackError.None, f.Stack.RemoveAddress(StackFixture.Nic1, Packets6.StackIp));
        Assert.False(f.Nic.IsInGroup(group));
    }

    private static byte[] OutgoingEcho(Ipv6Address destination)
    {
        byte[] frame = Packets6.EchoRequest(Packets6.StackIp, destination, dataLength: 8);
        return frame;
    }

    [Fact]
    public void Send_UnresolvedNeighbor_SolicitationToSolicitedNodeGroupThenQueuedPacketOnAdvertisement()
    {
        var f = Ipv6Fixture.Create();
        byte[] packet = OutgoingEcho(Packets6.HostIp);
        Assert.Equal(StackError.ResolutionPending, f.Nic.SendIpv6(packet, Packets6.HostIp));
        byte[] ns = Assert.Single(f.Link.ReadAll());
        Ipv6Address group = Packets6.HostIp.SolicitedNodeMulticast;
        Assert.Equal(MacAddress.Parse("33:33:ff:00:00:01"), MacAddress.Read(ns));
        Assert.Equal(group, Packets6.Destination(ns));
        Assert.Equal(Packets6.StackIp, Packets6.Source(ns));
        Assert.Equal(255, ns[21]);
        Assert.Equal(Icmpv6Type.NeighborSolicitation, Ipv6Fixture.TypeOf(ns));
        Assert.Equal(Packets6.HostIp, new Ipv6Address(ns.AsSpan(62, 16)));
        Assert.Equal(1, ns[78]);
        Assert.Equal(Packets.StackMac, MacAddress.Read(ns.AsSpan(80)));
        Assert.True(Packets6.IcmpChecksumValid(ns));

        byte[] na = Packets6.Advertisement(Packets6.HostIp, Packets6.StackIp, solicited: true, isOverride: true, OtherMac);
        byte[] sent = Assert.Single(f.Exchange(na));
        Assert.Equal(OtherMac, MacAddress.Read(sent));
        Assert.Equal(packet[12..], sent[12..]);
        Assert.True(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out NeighborInfo<Ipv6Address> info));
        Assert.Equal(NeighborState.Reachable, info.State);

        // Resolved now: the next packet leaves at once.
        Assert.Equal(StackError.None, f.Nic.SendIpv6(OutgoingEcho(Packets6.HostIp), Packets6.HostIp));
        Assert.Equal(OtherMac, MacAddress.Read(Assert.Single(f.Link.ReadAll())));
    }

    [Fact]
    public void Advertisement_HopLimitNot255_Ignored()
    {
        var f = Ipv6Fixture.Create();
        f.Nic.SendIpv6(OutgoingEcho(Packets6.HostIp), Packets6.HostIp);
        f.Link.Clear();
        Assert.Empty(f.Exchange(Packets6.Advertisement(Packets6.HostIp, Packets6.StackIp, true, true, OtherMac, hopLimit: 64)));
        Assert.Equal(1, f[StatCounter.NdpInvalidReceived]);
        Assert.True(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out NeighborInfo<Ipv6Address> info));
        Assert.Equal(NeighborState.Incomplete, info.State);
    }

    [Fact]
    public void Advertisement_SolicitedToMulticast_Invalid()
    {
        var f = Ipv6Fixture.Create();
        f.Nic.SendIpv6(OutgoingEcho(Packets6.HostIp), Packets6.HostIp);
        f.Link.Clear();
        Assert.Empty(f.Exchange(Packets6.Advertisement(Packets6.HostIp, Ipv6Address.AllNodes, true, true, OtherMac)));
        Assert.Equal(1, f[StatCounter.NdpInvalidReceived]);
    }

    [Fact]
    public void Advertisement_UnsolicitedOverride_ReachableEntryBecomesStaleWithNewAddress()
    {
        var f = Ipv6Fixture.Create();
        f.Nic.SendIpv6(OutgoingEcho(Packets6.HostIp), Packets6.HostIp);
        f.Exchange(Packets6.Advertisement(Packets6.HostIp, Packets6.StackIp, true, true, Packets.HostMac));
        MacAddress moved = MacAddress.Parse("02:00:00:00:00:55");
        f.Exchange(Packets6.Advertisement(Packets6.HostIp, Ipv6Address.AllNodes, false, true, moved));
        Assert.True(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out NeighborInfo<Ipv6Address> info));
        Assert.Equal(moved, info.LinkAddress);
        Assert.Equal(NeighborState.Stale, info.State);
    }

    [Fact]
    public void Advertisement_SolicitedWithoutOverride_DifferentAddressNotTaken()
    {
        var f = Ipv6Fixture.Create();
        f.Nic.SendIpv6(OutgoingEcho(Packets6.HostIp), Packets6.HostIp);
        f.Exchange(Packets6.Advertisement(Packets6.HostIp, Packets6.StackIp, true, true, Packets.HostMac));
        f.Exchange(Packets6.Advertisement(Packets6.HostIp, Packets6.StackIp, true, false, OtherMac));
        Assert.True(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out NeighborInfo<Ipv6Address> info));
        Assert.Equal(Packets.HostMac, info.LinkAddress);
        Assert.Equal(NeighborState.Stale, info.State);
    }

    [Fact]
    public void Advertisement_ForUnknownNeighbor_NotCached()
    {
        var f = Ipv6Fixture.Create();
        f.Exchange(Packets6.Advertisement(Packets6.HostIp, Ipv6Address.AllNodes, false, true, OtherMac));
        Assert.False(f.Nic.Ipv6Neighbors.TryGetInfo(Packets6.HostIp, out _));
    }

    [Fact]
    public void Resolution_NoAnswer_SolicitationsRetriedThenPacketFailed()
    {
        var f = Ipv6Fixture.Create();
        f.Nic.SendIpv6(OutgoingEcho(Packets6.HostIp), Packets6.HostIp);
        f.Clock.Advance(TimeSpan.FromSeconds(10));
        List<byte[]> probes = f.Link.ReadAll();
        Assert.True(probes.Count >= 3, $"{probes.Count} solicitations");
        Assert.All(probes, p => Assert.Equal(Icmpv6Type.NeighborSolicitation, Ipv6Fixture.TypeOf(p)));
        Assert.Equal(1, f[StatCounter.Ipv6OutgoingPacketErrors]);
    }

    [Fact]
    public void ThousandSolicitations_AfterWarmUp_AllocateNothing()
    {
        var f = Ipv6Fixture.Create();
        byte[] ns = Packets6.Solicitation(Packets6.HostIp, Packets6.StackIp, Packets.HostMac);
        byte[] sink = new byte[2048];
        long Run(int batches)
        {
            return AllocationWindow.Measure(() =>
            {
                for (int b = 0; b < batches; b++)
                {
                    f.Link.InjectInboundRepeated(ns, 100);
                    while (f.Link.Read(sink) >= 0)
                    {
                    }
                }
            });
        }
        Run(2);
        long before = f[StatCounter.NdpAdvertisementsSent];
        Assert.Equal(0, Run(10));
        Assert.Equal(1000, f[StatCounter.NdpAdvertisementsSent] - before);
    }
}
