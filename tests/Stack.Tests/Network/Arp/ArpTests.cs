using XdpStack.Stack.Link;
using XdpStack.Stack.Neighbors;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Arp;

public class ArpTests
{
    private static readonly Ipv4Address Other = Ipv4Address.Parse("198.18.0.3");
    private static readonly MacAddress OtherMac = MacAddress.Parse("02:00:00:00:00:03");

    [Fact]
    public void RequestFromLinux_ReplyEqualsLinuxReply()
    {
        var f = new StackFixture();
        byte[] reply = Assert.Single(f.Exchange(LinuxCaptures.ArpRequest));
        Assert.Equal(LinuxCaptures.LinuxArpReply, reply);
        Assert.Equal(1, f[StatCounter.ArpOutgoingRepliesSent]);
    }

    [Fact]
    public void RequestForLocalAddress_UnicastReplyFieldsSwapped_SenderCached()
    {
        var f = new StackFixture();
        byte[] reply = Assert.Single(f.Exchange(Packets.ArpRequest(Other, OtherMac, Packets.StackIp)));
        Assert.True(ArpPacket.TryCreate(reply.AsSpan(14), out ArpPacket arp, out _));
        Assert.Equal(OtherMac, MacAddress.Read(reply));
        Assert.Equal(ArpOperation.Reply, arp.Operation);
        Assert.Equal(Packets.StackMac, arp.SenderHardwareAddress);
        Assert.Equal(Packets.StackIp, arp.SenderProtocolAddress);
        Assert.Equal(OtherMac, arp.TargetHardwareAddress);
        Assert.Equal(Other, arp.TargetProtocolAddress);

        Assert.True(f.Nic.Neighbors.TryGetInfo(Other, out NeighborInfo<Ipv4Address> info));
        Assert.Equal(OtherMac, info.LinkAddress);
        Assert.Equal(NeighborState.Stale, info.State);
    }

    [Fact]
    public void RequestForAnotherNicsAddress_AnsweredWithThisNicsMac_AsLinuxArpIgnore0()
    {
        // Router fixture: NIC 1 owns 198.18.1.1, NIC 2 owns 198.18.2.1. A host on NIC 1's link asks for NIC 2's address.
        var f = new RouterFixture();
        f.Link1.InjectInbound(Packets.ArpRequest(RouterFixture.HostA, RouterFixture.HostAMac, RouterFixture.Ip2));
        byte[] reply = Assert.Single(f.Link1.ReadAll());
        Assert.True(ArpPacket.TryCreate(reply.AsSpan(14), out ArpPacket arp, out _));
        Assert.Equal(ArpOperation.Reply, arp.Operation);
        Assert.Equal(RouterFixture.Mac1, arp.SenderHardwareAddress);
        Assert.Equal(RouterFixture.Ip2, arp.SenderProtocolAddress);
        Assert.Equal(RouterFixture.HostA, arp.TargetProtocolAddress);
        Assert.Empty(f.Link2.ReadAll());
        // Loopback is never answered for.
        f.Link1.InjectInbound(Packets.ArpRequest(RouterFixture.HostA, RouterFixture.HostAMac, Ipv4Address.Parse("127.0.0.1")));
        Assert.Empty(f.Link1.ReadAll());
    }

    [Fact]
    public void RequestForUnownedAddress_IgnoredAndCounted()
    {
        var f = new StackFixture();
        Assert.Empty(f.Exchange(Packets.ArpRequest(Other, OtherMac, Ipv4Address.Parse("198.18.0.77"))));
        Assert.Equal(1, f[StatCounter.ArpRequestsReceivedUnknownTargetAddress]);
        Assert.False(f.Nic.Neighbors.TryGetInfo(Other, out _));
    }

    [Fact]
    public void RequestForExpiredAddress_Ignored()
    {
        var f = new StackFixture();
        AddressEndpoint held = f.Nic.AcquireOutgoingEndpoint(Packets.StackIp)!;
        f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp);
        Assert.Empty(f.Exchange(Packets.ArpRequest(Other, OtherMac, Packets.StackIp)));
        Assert.Equal(1, f[StatCounter.ArpRequestsReceivedUnknownTargetAddress]);
        held.DecRef();
    }

    [Fact]
    public void MalformedArp_Counted()
    {
        var f = new StackFixture();
        byte[] request = Packets.ArpRequest(Other, OtherMac, Packets.StackIp);
        request[15] = 6; // hardware type 6 (IEEE 802) instead of Ethernet
        Assert.Empty(f.Exchange(request));
        Assert.Empty(f.Exchange(Packets.ArpRequest(Other, OtherMac, Packets.StackIp)[..30]));
        Assert.Equal(2, f[StatCounter.ArpMalformedPacketsReceived]);
    }

    [Fact]
    public void OutgoingPacket_WaitsForResolution_UnicastReplyMakesReachableAndFlushes()
    {
        var f = new StackFixture();
        f.Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1));
        f.Stack.FindRoute(StackFixture.Nic1, Other, out Route? route);
        Assert.Equal(StackError.ResolutionPending, route!.WritePacket(IpProtocol.Udp, new byte[8]));
        Assert.Equal(StackError.ResolutionPending, route.WritePacket(IpProtocol.Udp, new byte[9]));

        byte[] request = Assert.Single(f.Link.ReadAll());
        Assert.True(MacAddress.Read(request).IsBroadcast);
        Assert.True(ArpPacket.TryCreate(request.AsSpan(14), out ArpPacket probe, out _));
        Assert.Equal(ArpOperation.Request, probe.Operation);
        Assert.Equal(Other, probe.TargetProtocolAddress);
        Assert.Equal(Packets.StackIp, probe.SenderProtocolAddress);

        List<byte[]> flushed = f.Exchange(Packets.ArpReply(Other, OtherMac, Packets.StackIp, Packets.StackMac, ethernetDestination: Packets.StackMac));
        Assert.Equal(2, flushed.Count);
        Assert.All(flushed, frame => Assert.Equal(OtherMac, MacAddress.Read(frame)));
        Assert.Equal(14 + 20 + 8, flushed[0].Length);
        Assert.Equal(14 + 20 + 9, flushed[1].Length);
        f.Nic.Neighbors.TryGetInfo(Other, out NeighborInfo<Ipv4Address> info);
        Assert.Equal(NeighborState.Reachable, info.State);

        // Resolved now: the next packet goes straight out.
        Assert.Equal(StackError.None, route.WritePacket(IpProtocol.Udp, new byte[8]));
        Assert.Equal(OtherMac, MacAddress.Read(Assert.Single(f.Link.ReadAll())));
        route.Release();
    }

    [Fact]
    public void BroadcastReply_WhileIncomplete_MakesStaleNotReachable()
    {
        var f = new StackFixture();
        f.Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1));
        f.Stack.FindRoute(StackFixture.Nic1, Other, out Route? route);
        route!.WritePacket(IpProtocol.Udp, new byte[8]);
        f.Link.Clear();
        f.Exchange(Packets.ArpReply(Other, OtherMac, Other, MacAddress.Broadcast, ethernetDestination: MacAddress.Broadcast));
        f.Nic.Neighbors.TryGetInfo(Other, out NeighborInfo<Ipv4Address> info);
        Assert.Equal(NeighborState.Stale, info.State);
        Assert.Equal(OtherMac, info.LinkAddress);
        route.Release();
    }

    [Fact]
    public void Resolution_NoAnswer_ThreeProbesThenFailure()
    {
        var f = new StackFixture();
        f.Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1));
        f.Stack.FindRoute(StackFixture.Nic1, Other, out Route? route);
        route!.WritePacket(IpProtocol.Udp, new byte[8]);
        f.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(3, f.Link.ReadAll().Count(frame => Packets.EtherTypeOf(frame) == 0x0806));
        Assert.Equal(1, f[StatCounter.Ipv4OutgoingPacketErrors]);
        route.Release();
    }

    [Fact]
    public void DisableNic_ClearsNeighborCache()
    {
        var f = new StackFixture();
        f.Exchange(Packets.ArpRequest(Other, OtherMac, Packets.StackIp));
        Assert.Equal(1, f.Nic.Neighbors.Count);
        f.Stack.DisableNic(StackFixture.Nic1);
        Assert.Equal(0, f.Nic.Neighbors.Count);
    }

    [Fact]
    public void EnableNic_AnnouncesPermanentAddresses()
    {
        var f = new StackFixture();
        f.Stack.DisableNic(StackFixture.Nic1);
        f.Link.Clear();
        f.Stack.EnableNic(StackFixture.Nic1);
        byte[] announcement = Assert.Single(f.Link.ReadAll());
        Assert.True(ArpPacket.TryCreate(announcement.AsSpan(14), out ArpPacket arp, out _));
        Assert.Equal(Packets.StackIp, arp.SenderProtocolAddress);
        Assert.Equal(Packets.StackIp, arp.TargetProtocolAddress);
    }

    [Fact]
    public void LinkWithoutResolution_NoGratuitousArp()
    {
        var f = new StackFixture(addAddress: false, capabilities: LinkCapabilities.None);
        f.Stack.AddAddress(StackFixture.Nic1, Packets.StackIp, 24);
        Assert.Empty(f.Link.ReadAll());
    }
}
