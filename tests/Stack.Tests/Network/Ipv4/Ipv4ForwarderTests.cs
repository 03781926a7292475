using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.RouterFixture;

namespace XdpStack.Stack.Tests.Network.Ipv4;

public class Ipv4ForwarderTests
{
    private const int IcmpOffset = 34;

    [Theory]
    [InlineData(2)]
    [InlineData(64)]
    [InlineData(255)]
    public void Forward_TtlAtLeastTwo_LeavesEgressWithTtlMinusOneAndNewMacs(byte ttl)
    {
        var f = new RouterFixture();
        byte[] sent = FromA(HostB, ttl);
        f.Link1.InjectInbound(sent);
        Assert.Empty(f.Link1.ReadAll());
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(sent.Length, forwarded.Length);
        Assert.Equal(HostBMac, MacAddress.Read(forwarded));
        Assert.Equal(Mac2, MacAddress.Read(forwarded.AsSpan(6)));
        Assert.Equal(ttl - 1, forwarded[22]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 20)));
        // Only TTL and checksum changed.
        Assert.Equal(sent[12..22], forwarded[12..22]);
        Assert.Equal(sent[23..24], forwarded[23..24]);
        Assert.Equal(sent[26..], forwarded[26..]);
        Assert.Equal(1, f.Router2.Stats[StatCounter.Ipv4PacketsSent]);
        // The pair is counted on the ingress NIC, toward the egress one only.
        Assert.Equal(1, f.Router1.Stats.ForwardedTo(f.Router2.Id.Value));
        Assert.Equal(0, f.Router1.Stats.ForwardedTo(f.Router1.Id.Value));
        Assert.Equal(0, f.Router2.Stats.ForwardedTo(f.Router1.Id.Value));
    }

    [Fact]
    public void Forward_ViaGateway_DestinationMacIsGateways()
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(FromA(BeyondGateway));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(GatewayMac, MacAddress.Read(forwarded));
        Assert.Equal(BeyondGateway, Packets.IpDestination(forwarded));
    }

    [Fact]
    public void Forward_ChecksumIsIncrementalNotRecomputed_MatchesRfc1624()
    {
        // Many identifications and TTLs, so the incremental update meets carries and the 0x0000/0xFFFF edge (RFC 1624 §3).
        var f = new RouterFixture();
        for (int id = 0; id < 300; id++)
        {
            byte[] sent = FromA(HostB, (byte)(2 + id % 250), payloadLength: id % 64);
            BinaryPrimitives.WriteUInt16BigEndian(sent.AsSpan(18), (ushort)(id * 977));
            sent[24] = sent[25] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(sent.AsSpan(24), Checksum.Compute(sent.AsSpan(14, 20)));
            f.Link1.InjectInbound(sent);
            byte[] forwarded = Assert.Single(f.Link2.ReadAll());
            Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 20)));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Forward_TtlZeroOrOne_NotForwardedTimeExceededFromIngressAddress(byte ttl)
    {
        var f = new RouterFixture();
        byte[] sent = FromA(HostB, ttl);
        f.Link1.InjectInbound(sent);
        Assert.Empty(f.Link2.ReadAll());
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(HostAMac, MacAddress.Read(error));
        Assert.Equal(Mac1, MacAddress.Read(error.AsSpan(6)));
        Assert.Equal(Ip1, Packets.IpSource(error));
        Assert.Equal(HostA, Packets.IpDestination(error));
        Assert.Equal((byte)Icmpv4Type.TimeExceeded, error[IcmpOffset]);
        Assert.Equal(0, error[IcmpOffset + 1]);
        // The quote is the packet as received.
        Assert.Equal(sent[14..42], error[(IcmpOffset + 8)..(IcmpOffset + 36)]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.IcmpTimeExceededSent]);
    }

    [Theory]
    [InlineData("198.18.5.10", "198.18.5.1")]
    [InlineData("198.18.1.10", "198.18.1.1")]
    [InlineData("198.19.7.7", "198.18.1.1")]
    public void Forward_TtlOne_TimeExceededFromOurAddressOnTheSendersSubnet(string sender, string expectedSource)
    {
        // Linux routes the error back to the sender and picks the source there (inet_select_addr): our address on
        // the sender's subnet, else the first (a sender beyond a router).
        var f = new RouterFixture();
        Assert.Equal(StackError.None, f.Stack.AddAddress(Nic1, Ipv4Address.Parse("198.18.5.1"), 24));
        Assert.Equal(StackError.None, f.Stack.AddRoute(new XdpStack.Stack.Routing.Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.5.0"), 24), Ipv4Address.Any, 1)));
        f.Link1.Clear();
        f.Link1.InjectInbound(FromA(HostB, ttl: 1, source: Ipv4Address.Parse(sender)));
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv4Type.TimeExceeded, error[IcmpOffset]);
        Assert.Equal(Ipv4Address.Parse(expectedSource), Packets.IpSource(error));
        Assert.Equal(Ipv4Address.Parse(sender), Packets.IpDestination(error));
        Assert.Equal(0, Checksum.Compute(error.AsSpan(14, 20)));
    }

    [Fact]
    public void Forward_NoRoute_NetUnreachable()
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(FromA(Ipv4Address.Parse("198.19.200.1")));
        Assert.Empty(f.Link2.ReadAll());
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, error[IcmpOffset]);
        Assert.Equal(0, error[IcmpOffset + 1]);
        Assert.Equal(Ip1, Packets.IpSource(error));
    }

    [Fact]
    public void Forward_RouteThroughDisabledNic_NetUnreachable()
    {
        var f = new RouterFixture();
        Assert.Equal(StackError.None, f.Stack.DisableNic(Nic2));
        f.Link1.InjectInbound(FromA(HostB));
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, error[IcmpOffset]);
        Assert.Equal(0, error[IcmpOffset + 1]);
    }

    [Fact]
    public void Forward_Unresolved_WaitsAndLeavesWhenArpAnswers()
    {
        var f = new RouterFixture(resolveHostB: false);
        byte[] sent = FromA(HostB, 9);
        f.Link1.InjectInbound(sent);
        byte[] request = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(0x0806, Packets.EtherTypeOf(request));
        Assert.Empty(f.Link1.ReadAll());
        f.Link2.InjectInbound(Packets.ArpReply(HostB, HostBMac, Ip2, Mac2, Mac2));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(HostBMac, MacAddress.Read(forwarded));
        Assert.Equal(Mac2, MacAddress.Read(forwarded.AsSpan(6)));
        Assert.Equal(8, forwarded[22]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 20)));
        Assert.Equal(sent[26..], forwarded[26..]);
    }

    [Fact]
    public void Forward_UnresolvedOnASecondSubnet_ArpAsksFromOurAddressThere()
    {
        // Linux's arp_solicit with arp_announce 0: inet_select_addr(dev, target) picks the address on the target's
        // subnet, not the interface's first one.
        var f = new RouterFixture(resolveHostB: false);
        Ipv4Address second = Ipv4Address.Parse("198.18.6.1");
        Ipv4Address neighbour = Ipv4Address.Parse("198.18.6.20");
        Assert.Equal(StackError.None, f.Stack.AddAddress(Nic2, second, 24));
        Assert.Equal(StackError.None, f.Stack.AddRoute(new XdpStack.Stack.Routing.Ipv4Route(new Ipv4Prefix(Ipv4Address.Parse("198.18.6.0"), 24), Ipv4Address.Any, 2)));
        f.Link2.Clear();
        f.Link1.InjectInbound(FromA(neighbour));
        byte[] request = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(0x0806, Packets.EtherTypeOf(request));
        Assert.Equal(second, Ipv4Address.Read(request.AsSpan(28)));
        Assert.Equal(neighbour, Ipv4Address.Read(request.AsSpan(38)));
        // The first subnet's neighbours are still asked from the first address.
        f.Link1.InjectInbound(FromA(HostB));
        byte[] first = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(Ip2, Ipv4Address.Read(first.AsSpan(28)));
    }

    [Fact]
    public void Forward_ResolutionFails_HostUnreachableFromIngress()
    {
        var f = new RouterFixture(resolveHostB: false);
        f.Link1.InjectInbound(FromA(HostB));
        Assert.Empty(f.Link1.ReadAll());
        for (int i = 0; i < 10; i++)
            f.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.All(f.Link2.ReadAll(), frame => Assert.Equal(0x0806, Packets.EtherTypeOf(frame)));
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(HostAMac, MacAddress.Read(error));
        Assert.Equal(Ip1, Packets.IpSource(error));
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, error[IcmpOffset]);
        Assert.Equal(1, error[IcmpOffset + 1]);
        Assert.Equal(HostB, Ipv4Address.Read(error.AsSpan(IcmpOffset + 8 + 16)));
    }

    [Fact]
    public void Forward_DontFragmentAboveEgressMtu_FragNeededWithMtuNeverRateLimited()
    {
        var f = new RouterFixture(mtu2: 1280);
        // Far past the ICMP burst (50): every one is answered.
        for (int i = 0; i < 200; i++)
        {
            f.Link1.InjectInbound(FromA(HostB, payloadLength: 1400, flags: 0x4000));
            Assert.Empty(f.Link2.ReadAll());
            byte[] error = Assert.Single(f.Link1.ReadAll());
            Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, error[IcmpOffset]);
            Assert.Equal(4, error[IcmpOffset + 1]);
            Assert.Equal(1280, BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(IcmpOffset + 6)));
            Assert.Equal(0, Checksum.Compute(error.AsSpan(IcmpOffset)));
        }
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRateLimited]);
    }

    [Fact]
    public void Forward_TimeExceededToOneHost_SixThenOneASecond()
    {
        // The contrast to frag needed: other errors are limited, per destination first, as Linux's inet_peer
        // (icmp_ratelimit 1000 ms, burst 6): one host flooding us gets six, then one a second.
        var f = new RouterFixture();
        for (int i = 0; i < 200; i++)
            f.Link1.InjectInbound(FromA(HostB, ttl: 1));
        Assert.Equal(6, f.Link1.ReadAll().Count);
        Assert.Equal(194, f.Router1.Stats[StatCounter.IcmpRateLimitedHost]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRateLimited]);
        f.Clock.Advance(TimeSpan.FromMilliseconds(999));
        f.Link1.InjectInbound(FromA(HostB, ttl: 1));
        Assert.Empty(f.Link1.ReadAll());
        f.Clock.Advance(TimeSpan.FromMilliseconds(1));
        f.Link1.InjectInbound(FromA(HostB, ttl: 1));
        f.Link1.InjectInbound(FromA(HostB, ttl: 1));
        Assert.Single(f.Link1.ReadAll());
        // Credit saves up to six seconds' worth, no more.
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        for (int i = 0; i < 10; i++)
            f.Link1.InjectInbound(FromA(HostB, ttl: 1));
        Assert.Equal(6, f.Link1.ReadAll().Count);
    }

    [Fact]
    public void Forward_TimeExceededToManyHosts_HostWideBucketOf50()
    {
        // Sixty hosts, one error each: the host-wide bucket (1000/s, burst 50) stops the last ten, and a host
        // refused there keeps its own credit (Linux consumes host-wide tokens only for errors both limits allow).
        var f = new RouterFixture();
        for (int i = 0; i < 60; i++)
        {
            f.Link1.InjectInbound(FromA(HostB, ttl: 1, source: new Ipv4Address(HostA.Value + 100 + (uint)i)));
        }
        Assert.Equal(50, f.Link1.ReadAll().Count);
        Assert.Equal(10, f.Router1.Stats[StatCounter.IcmpRateLimited]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRateLimitedHost]);
    }

    [Fact]
    public void Forward_DontFragmentClearAboveEgressMtu_FragmentedOnEgress()
    {
        var f = new RouterFixture(mtu2: 1280);
        byte[] sent = FromA(HostB, ttl: 30, payloadLength: 2900);
        f.Link1.InjectInbound(sent);
        List<byte[]> fragments = f.Link2.ReadAll();
        Assert.Equal(3, fragments.Count);
        byte[] reassembled = new byte[sent.Length - 34];
        int total = 0;
        foreach (byte[] fragment in fragments)
        {
            Assert.True(fragment.Length - 14 <= 1280);
            Assert.Equal(HostBMac, MacAddress.Read(fragment));
            Assert.Equal(29, fragment[22]);
            Assert.Equal(0, Checksum.Compute(fragment.AsSpan(14, 20)));
            int offset = (BinaryPrimitives.ReadUInt16BigEndian(fragment.AsSpan(20)) & 0x1FFF) * 8;
            fragment.AsSpan(34).CopyTo(reassembled.AsSpan(offset));
            total += fragment.Length - 34;
        }
        Assert.Equal(reassembled.Length, total);
        Assert.Equal(sent[34..], reassembled);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(fragments[^1].AsSpan(20)) & 0x2000);
    }

    [Theory]
    [InlineData("0.1.2.3")]
    [InlineData("240.0.0.1")]
    [InlineData("169.254.1.1")]
    public void Forward_MartianSource_DroppedCountedNoIcmp(string source)
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(FromA(HostB, source: Ipv4Address.Parse(source)));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4InvalidSourceAddressesReceived]);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.9")]
    public void Forward_InvalidSourceCaughtByReceivePath_DroppedCountedNoIcmp(string source)
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(FromA(HostB, source: Ipv4Address.Parse(source)));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4InvalidSourceAddressesReceived]);
    }

    [Theory]
    [InlineData("169.254.9.9")]
    [InlineData("240.1.1.1")]
    [InlineData("0.0.0.7")]
    public void Forward_UnroutableDestination_DroppedNoIcmp(string destination)
    {
        var f = new RouterFixture();
        f.Stack.AddRoute(new XdpStack.Stack.Routing.Ipv4Route(new Ipv4Prefix(Ipv4Address.Any, 0), Gateway, 2));
        f.Link1.InjectInbound(FromA(Ipv4Address.Parse(destination)));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
    }

    [Fact]
    public void Forward_OtherNicsAddress_DeliveredLocallyNotForwarded()
    {
        var f = new RouterFixture();
        byte[] echo = Packets.Ipv4(HostA, Ip2, 1, Packets.Icmp(8, 0, new byte[12]), to: Mac1, from: HostAMac);
        f.Link1.InjectInbound(echo);
        Assert.Empty(f.Link2.ReadAll());
        byte[] reply = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(HostAMac, MacAddress.Read(reply));
        Assert.Equal(Ip2, Packets.IpSource(reply));
        Assert.Equal(HostA, Packets.IpDestination(reply));
        Assert.Equal(0, reply[IcmpOffset]);
        Assert.Equal(1, f.Router1.Stats[StatCounter.IcmpEchoRepliesSent]);
    }

    [Fact]
    public void Forward_ForwardingOff_NotForwardedCountedInvalidDestination()
    {
        var f = new RouterFixture(forwarding: false);
        f.Link1.InjectInbound(FromA(HostB));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
    }

    [Fact]
    public void Forward_OtherNicsAddressWithForwardingOff_NotDelivered()
    {
        var f = new RouterFixture(forwarding: false);
        f.Link1.InjectInbound(Packets.Ipv4(HostA, Ip2, 1, Packets.Icmp(8, 0, new byte[12]), to: Mac1, from: HostAMac));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
    }

    [Fact]
    public void SetForwarding_ReturnsPreviousValue()
    {
        var f = new RouterFixture(forwarding: false);
        Assert.Equal(StackError.None, f.Stack.SetForwarding(Nic1, EtherType.Ipv4, true, out bool previous));
        Assert.False(previous);
        Assert.Equal(StackError.None, f.Stack.SetForwarding(Nic1, EtherType.Ipv4, true, out previous));
        Assert.True(previous);
        Assert.Equal(StackError.None, f.Stack.SetForwarding(Nic1, EtherType.Ipv4, false, out previous));
        Assert.True(previous);
        Assert.Equal(StackError.UnknownNicId, f.Stack.SetForwarding(new NicId(9), EtherType.Ipv4, true, out _));
    }

    [Theory]
    // Option length 1 (below 2): the option's type octet, 20, as Linux's ip_options_compile (checked on the wire).
    [InlineData(new byte[] { 7, 1, 0, 0 }, 20)]
    // Option runs past the header: its type octet again (after the NOP).
    [InlineData(new byte[] { 1, 7, 9, 4 }, 21)]
    // Record route too short to hold a pointer: the length octet.
    [InlineData(new byte[] { 7, 2, 1, 1 }, 21)]
    // Router Alert shorter than its four octets: the length octet.
    [InlineData(new byte[] { 148, 3, 0, 1 }, 21)]
    // Record route pointer 3 (below 4): pointer at the pointer octet.
    [InlineData(new byte[] { 7, 7, 3, 0, 0, 0, 0, 0 }, 22)]
    // Record route pointer 5 in 7 octets: room for part of an address only.
    [InlineData(new byte[] { 7, 7, 5, 0, 0, 0, 0, 0 }, 22)]
    // Timestamp pointer 6 in 8 octets: room for part of a time only.
    [InlineData(new byte[] { 68, 8, 6, 0, 0, 0, 0, 0 }, 22)]
    // Timestamp full with the overflow counter already at 15.
    [InlineData(new byte[] { 68, 8, 9, 0xF0, 0, 0, 0, 0 }, 23)]
    // Record route with room for part of an address only (length 9, pointer 8).
    [InlineData(new byte[] { 7, 9, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 22)]
    // Timestamp with addresses (flag 1): 8-byte entries, but only 4 left.
    [InlineData(new byte[] { 68, 8, 5, 1, 0, 0, 0, 0 }, 22)]
    // Record route twice: the second one's type octet.
    [InlineData(new byte[] { 7, 3, 4, 7, 3, 4, 0, 0 }, 23)]
    // Two source routes (RFC 1812 §5.2.4.1), whatever AcceptSourceRoute says.
    [InlineData(new byte[] { 131, 3, 4, 137, 3, 4, 0, 0 }, 23)]
    // Timestamp twice.
    [InlineData(new byte[] { 68, 4, 5, 0, 68, 4, 5, 0 }, 24)]
    public void Forward_MalformedOptions_ParameterProblemWithPointer(byte[] options, int pointer)
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(WithOptions(options));
        Assert.Empty(f.Link2.ReadAll());
        byte[] error = Assert.Single(f.Link1.ReadAll());
        // The error may echo an option that came before the bad one (see Ipv4ForwarderOptionsTests).
        int icmp = 14 + ((error[14] & 0xF) * 4);
        Assert.Equal((byte)Icmpv4Type.ParameterProblem, error[icmp]);
        Assert.Equal(0, error[icmp + 1]);
        Assert.Equal(pointer, error[icmp + 4]);
        Assert.Equal(0, error[icmp + 5] | error[icmp + 6] | error[icmp + 7]);
        Assert.Equal(Ip1, Packets.IpSource(error));
        Assert.Equal(HostA, Packets.IpDestination(error));
        Assert.Equal(0, Checksum.Compute(error.AsSpan(icmp)));
        Assert.Equal(1, f.Router1.Stats[StatCounter.Ipv4ForwardOptionErrors]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded]);
    }

    [Theory]
    // Linux accepts pointers off the 4-octet grid and timestamp flags it does not know (2): the packet goes on, an
    // unknown flag unstamped, a misaligned Record Route with our address at the pointer (checked on the wire).
    [InlineData(new byte[] { 68, 8, 5, 2, 0, 0, 0, 0 }, new byte[] { 68, 8, 5, 2, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 7, 11, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, new byte[] { 7, 11, 9, 0, 198, 18, 2, 1, 0, 0, 0, 0 })]
    public void Forward_OptionsLinuxAccepts_ForwardedAsLinuxForwardsThem(byte[] options, byte[] forwardedOptions)
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(WithOptions(options));
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(forwardedOptions, forwarded[34..(34 + options.Length)]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 20 + options.Length)));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Equal(0, f.Router1.Stats[StatCounter.Ipv4ForwardOptionErrors]);
    }

    [Theory]
    [InlineData(new byte[] { 1, 1, 1, 0 })]
    // Record route already full.
    [InlineData(new byte[] { 7, 7, 8, 198, 18, 9, 9, 0 })]
    // Prespecified timestamp naming an address that is not ours.
    [InlineData(new byte[] { 68, 12, 5, 3, 198, 18, 9, 9, 0, 0, 0, 0 })]
    // Router Alert (RFC 2113): unknown here, passed on untouched.
    [InlineData(new byte[] { 148, 4, 0, 0 })]
    public void Forward_WellFormedOptionsNothingToRecord_ForwardedUnchanged(byte[] options)
    {
        var f = new RouterFixture();
        f.Link1.InjectInbound(WithOptions(options));
        Assert.Empty(f.Link1.ReadAll());
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(options, forwarded[34..(34 + options.Length)]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 20 + options.Length)));
    }

    [Fact]
    public void Forward_ResolvedNextHop_AllocatesNothing()
    {
        var f = new RouterFixture();
        byte[] sent = FromA(HostB, 255);
        AllocatedForwarding(f, sent, 2);
        long sentBefore = f.Router2.Stats[StatCounter.Ipv4PacketsSent];
        Assert.Equal(0, AllocatedForwarding(f, sent, 20));
        Assert.Equal(20 * 64, f.Router2.Stats[StatCounter.Ipv4PacketsSent] - sentBefore);
    }

    [Theory]
    [InlineData("recordroute")]
    [InlineData("timestamp")]
    [InlineData("timestampaddress")]
    [InlineData("sourceroute")]
    [InlineData("redirect")]
    public void Forward_OptionsAndRedirects_AllocateNothing(string kind)
    {
        // The system wall clock, so that reading real time is measured too.
        var f = new RouterFixture(acceptSourceRoute: true, wallClock: TimeProvider.System, icmpPeerInterval: TimeSpan.Zero);
        Ipv4Address hostA2 = Ipv4Address.Parse("198.18.1.20");
        f.Router1.Neighbors.AddStatic(hostA2, MacAddress.Parse("02:00:00:00:01:14"));
        f.Link1.Clear();
        byte[] sent = kind switch
        {
            "recordroute" => FromAWithOptions(HostB, [7, 39, 4, .. new byte[37]]),
            "timestamp" => FromAWithOptions(HostB, [68, 40, 5, 0, .. new byte[36]]),
            "timestampaddress" => FromAWithOptions(HostB, [68, 36, 5, 1, .. new byte[32]]),
            "sourceroute" => FromAWithOptions(Ip1, [131, 7, 4, .. Bytes(HostB), 0]),
            "redirect" => FromA(hostA2),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        // Batches of the bucket's size a second apart (the clock advanced outside the measurement); a Redirect's
        // backoff lets one through per host after 20.48 s of silence, so those go one packet per batch, 21 s apart,
        // and every packet that calls for a Redirect gets one built and sent.
        bool redirect = kind == "redirect";
        int batch = redirect ? 1 : ErrorBurst;
        void Refill() => f.Clock.Advance(TimeSpan.FromSeconds(redirect ? 21 : 1));
        AllocatedForwarding(f, sent, 2, Refill, batch);
        long forwardedBefore = f.Router1.Stats[StatCounter.Ipv4PacketsForwarded];
        long redirectsBefore = f.Router1.Stats[StatCounter.IcmpRedirectsSent];
        long limitedBefore = f.Router1.Stats[StatCounter.IcmpRateLimited];
        Assert.Equal(0, AllocatedForwarding(f, sent, 20, Refill, batch));
        Assert.Equal(20 * batch, f.Router1.Stats[StatCounter.Ipv4PacketsForwarded] - forwardedBefore);
        Assert.Equal(redirect ? 20 : 0, f.Router1.Stats[StatCounter.IcmpRedirectsSent] - redirectsBefore);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRateLimited] - limitedBefore);
    }

    [Theory]
    [InlineData("timeexceeded")]
    [InlineData("netunreachable")]
    [InlineData("fragmentationneeded")]
    [InlineData("parameterproblem")]
    public void Forward_IcmpErrorsSent_AllocateNothing(string kind)
    {
        // Errors are built in the worker's scratch buffer. Batches of the bucket's size a second apart (the clock
        // advanced outside the measurement), with host A's own limit off, give every packet its error, so building
        // and sending is what is measured.
        var f = new RouterFixture(mtu2: 1280, icmpPeerInterval: TimeSpan.Zero);
        (byte[] sent, StatCounter counter) = kind switch
        {
            "timeexceeded" => (FromA(HostB, ttl: 1), StatCounter.IcmpTimeExceededSent),
            "netunreachable" => (FromA(Ipv4Address.Parse("198.19.200.1")), StatCounter.IcmpDestinationUnreachableSent),
            "fragmentationneeded" => (FromA(HostB, payloadLength: 1400, flags: 0x4000), StatCounter.IcmpDestinationUnreachableSent),
            "parameterproblem" => (WithOptions([7, 7, 5, 0, 0, 0, 0, 0]), StatCounter.IcmpParameterProblemSent),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        void Refill() => f.Clock.Advance(TimeSpan.FromSeconds(1));
        AllocatedForwarding(f, sent, 2, Refill, ErrorBurst);
        long errorsBefore = f.Router1.Stats[counter];
        long limitedBefore = f.Router1.Stats[StatCounter.IcmpRateLimited];
        Assert.Equal(0, AllocatedForwarding(f, sent, 20, Refill, ErrorBurst, out int toNic1, out int toNic2));
        Assert.Equal(20 * ErrorBurst, toNic1);
        Assert.Equal(0, toNic2);
        Assert.Equal(20 * ErrorBurst, f.Router1.Stats[counter] - errorsBefore);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpRateLimited] - limitedBefore);
    }

    // The error token bucket's size (StackOptions.IcmpErrorBurst's default).
    private const int ErrorBurst = 50;

    private static long AllocatedForwarding(RouterFixture f, byte[] frame, int batches, Action? betweenBatches = null, int perBatch = 64) =>
        AllocatedForwarding(f, frame, batches, betweenBatches, perBatch, out _, out _);

    // Also counts the frames sent on each link. betweenBatches runs before each batch, outside the measurement.
    private static long AllocatedForwarding(RouterFixture f, byte[] frame, int batches, Action? betweenBatches, int perBatch, out int toNic1, out int toNic2)
    {
        byte[] sink = new byte[2048];
        long allocated = 0;
        int sentOn1 = 0, sentOn2 = 0;
        for (int b = 0; b < batches; b++)
        {
            betweenBatches?.Invoke();
            allocated += AllocationWindow.Measure(() =>
            {
                f.Link1.InjectInboundRepeated(frame, perBatch);
                while (f.Link2.Read(sink) >= 0)
                    sentOn2++;
                while (f.Link1.Read(sink) >= 0)
                    sentOn1++;
            });
        }
        toNic1 = sentOn1;
        toNic2 = sentOn2;
        return allocated;
    }

    private static byte[] WithOptions(byte[] options) => FromAWithOptions(HostB, options);
}
