using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv6;

public class Ipv6ReceiveTests
{
    [Fact]
    public void EchoRequest_ReplyWrittenInPlace_AddressesSwappedAndChecksumValid()
    {
        var f = Ipv6Fixture.Create();
        byte[] request = Packets6.EchoRequest(Packets6.HostIp, Packets6.StackIp, dataLength: 56);
        byte[] reply = Assert.Single(f.Exchange(request));
        Assert.Equal(request.Length, reply.Length);
        Assert.Equal(Packets.HostMac, MacAddress.Read(reply));
        Assert.Equal(Packets.StackMac, MacAddress.Read(reply.AsSpan(6)));
        Assert.Equal(Packets6.StackIp, Packets6.Source(reply));
        Assert.Equal(Packets6.HostIp, Packets6.Destination(reply));
        Assert.Equal(64, reply[21]);
        Assert.Equal((byte)Icmpv6Type.EchoReply, reply[54]);
        Assert.Equal(request[58..], reply[58..]);
        Assert.True(Packets6.IcmpChecksumValid(reply));
        // The reply flow's own automatic label (Linux: auto_flowlabels), not the request's.
        uint label = BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(14)) & 0xFFFFF;
        Assert.Equal(XdpStack.Stack.Network.Ipv6.Ipv6FlowLabel.For(Packets6.StackIp, Packets6.HostIp, IpProtocol.Icmpv6), label);
        Assert.NotEqual(0u, label);
        Assert.Equal(1, f[StatCounter.Icmpv6EchoRepliesSent]);
        Assert.Equal(0, f.Nic.Stats.UnknownNetworkProtocols().GetValueOrDefault((ushort)0x86DD));
    }

    [Fact]
    public void EchoRequest_BehindDestinationOptions_ReplyCarriesNoExtensionHeader()
    {
        var f = Ipv6Fixture.Create();
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 128, 0, 0x0001_0002, Packets6.EchoBody(24));
        // Destination Options: next header 58, length 0 (8 octets), one PadN option of 4 octets.
        byte[] payload = [58, 0, 1, 4, 0, 0, 0, 0, .. echo];
        byte[] request = Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 60, payload);
        byte[] reply = Assert.Single(f.Exchange(request));
        Assert.Equal(14 + 40 + echo.Length, reply.Length);
        Assert.Equal(58, reply[20]);
        Assert.Equal(echo.Length, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(18)));
        Assert.Equal((byte)Icmpv6Type.EchoReply, reply[54]);
        Assert.Equal(echo[4..], reply[58..]);
        Assert.True(Packets6.IcmpChecksumValid(reply));
    }

    [Fact]
    public void EchoRequest_ToAllNodes_AnsweredFromOurAddressAsLinuxDoes()
    {
        var f = Ipv6Fixture.Create();
        byte[] request = Packets6.EchoRequest(Packets6.HostIp, Ipv6Address.AllNodes, dataLength: 24);
        byte[] reply = Assert.Single(f.Exchange(request));
        Assert.Equal(Packets.HostMac, MacAddress.Read(reply));
        Assert.Equal(Packets6.StackIp, Packets6.Source(reply));
        Assert.Equal(Packets6.HostIp, Packets6.Destination(reply));
        Assert.Equal(64, reply[21]);
        Assert.Equal((byte)Icmpv6Type.EchoReply, reply[54]);
        Assert.Equal(request[58..], reply[58..]);
        Assert.True(Packets6.IcmpChecksumValid(reply));
        Assert.Equal(1, f[StatCounter.Icmpv6EchoRepliesSent]);
        // A group we are not in is not ours to answer.
        Assert.Empty(f.Exchange(Packets6.EchoRequest(Packets6.HostIp, Ipv6Address.Parse("ff02::1234"))));
    }

    [Fact]
    public void EchoRequest_ToAllNodes_LimitedPerRequester()
    {
        var f = Ipv6Fixture.Create();
        int replies = 0;
        for (int i = 0; i < 20; i++)
            replies += f.Exchange(Packets6.EchoRequest(Packets6.HostIp, Ipv6Address.AllNodes, sequence: (ushort)i)).Count;
        // The clock stands still: the requester's six saved credits, as Linux's icmpv6_xrlim_allow gives.
        Assert.Equal(6, replies);
        // Echoes to our unicast address are never limited.
        for (int i = 0; i < 20; i++)
            Assert.Single(f.Exchange(Packets6.EchoRequest(Packets6.HostIp, Packets6.StackIp, sequence: (ushort)i)));
    }

    [Fact]
    public void HopByHopAfterDestinationOptions_ParameterProblemCode1AtTheFieldNamingIt()
    {
        var f = Ipv6Fixture.Create();
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 128, 0, 0x0001_0002, Packets6.EchoBody(8));
        // Destination Options naming Hop-by-Hop (0), which names ICMPv6: Linux answers as a tcpdump of it showed,
        // "parameter problem, next header - octet 40".
        byte[] payload = [0, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0, .. echo];
        byte[] error = Assert.Single(f.Exchange(Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 60, payload)));
        Assert.Equal(Icmpv6Type.ParameterProblem, Ipv6Fixture.TypeOf(error));
        Assert.Equal(1, error[55]);
        Assert.Equal(40u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
        Assert.True(Packets6.IcmpChecksumValid(error));
        Assert.Equal(1, f[StatCounter.Ipv6MalformedPacketsReceived]);
    }

    [Fact]
    public void EchoRequest_BadChecksum_CountedAndNotAnswered()
    {
        var f = Ipv6Fixture.Create();
        byte[] request = Packets6.EchoRequest(Packets6.HostIp, Packets6.StackIp);
        request[^1] ^= 0x40;
        Assert.Empty(f.Exchange(request));
        Assert.Equal(1, f[StatCounter.Icmpv6InvalidReceived]);
    }

    [Fact]
    public void Packet_ToAnotherAddress_CountedAsInvalidDestination()
    {
        var f = Ipv6Fixture.Create();
        Assert.Empty(f.Exchange(Packets6.EchoRequest(Packets6.HostIp, Ipv6Address.Parse("2001:2::99"))));
        Assert.Equal(1, f[StatCounter.Ipv6InvalidDestinationAddressesReceived]);
        Assert.Equal(0, f[StatCounter.Ipv6PacketsDelivered]);
    }

    [Fact]
    public void Packet_MulticastSource_CountedAsInvalidSource()
    {
        var f = Ipv6Fixture.Create();
        Assert.Empty(f.Exchange(Packets6.EchoRequest(Ipv6Address.AllNodes, Packets6.StackIp)));
        Assert.Equal(1, f[StatCounter.Ipv6InvalidSourceAddressesReceived]);
    }

    [Fact]
    public void Packet_PayloadLengthPastFrame_Malformed()
    {
        var f = Ipv6Fixture.Create();
        byte[] request = Packets6.EchoRequest(Packets6.HostIp, Packets6.StackIp);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(18), 200);
        Assert.Empty(f.Exchange(request));
        Assert.Equal(1, f[StatCounter.Ipv6MalformedPacketsReceived]);
    }

    [Fact]
    public void Packet_TruncatedExtensionHeader_Malformed()
    {
        var f = Ipv6Fixture.Create();
        // A Hop-by-Hop header claiming 16 octets in a 8-octet payload.
        byte[] request = Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 0, [58, 1, 1, 4, 0, 0, 0, 0]);
        Assert.Empty(f.Exchange(request));
        Assert.Equal(1, f[StatCounter.Ipv6MalformedPacketsReceived]);
    }

    [Fact]
    public void Packet_UnknownNextHeader_ParameterProblemCode1PointsAtField()
    {
        var f = Ipv6Fixture.Create();
        byte[] request = Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 253, new byte[16]);
        byte[] error = Assert.Single(f.Exchange(request));
        Assert.Equal(Icmpv6Type.ParameterProblem, Ipv6Fixture.TypeOf(error));
        Assert.Equal(1, error[55]);
        Assert.Equal(6u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
        Assert.Equal(request[14..], error[62..]);
        Assert.Equal(Packets6.HostIp, Packets6.Destination(error));
        Assert.True(Packets6.IcmpChecksumValid(error));
        Assert.Equal(1, f.Nic.Stats.UnknownTransportProtocol(253));
    }

    [Fact]
    public void Packet_UnknownNextHeaderAfterDestinationOptions_PointerAtOptionsHeader()
    {
        var f = Ipv6Fixture.Create();
        byte[] request = Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 60, [253, 0, 1, 4, 0, 0, 0, 0, 1, 2, 3, 4]);
        byte[] error = Assert.Single(f.Exchange(request));
        Assert.Equal(40u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
    }

    [Fact]
    public void Errors_SixtyInABurstFromSixtyHosts_FiftySentTenRateLimited()
    {
        var f = Ipv6Fixture.Create();
        int sent = 0;
        for (int i = 0; i < 60; i++)
        {
            Ipv6Address host = new(Packets6.HostIp.High, Packets6.HostIp.Low + 0x100 + (ulong)i);
            sent += f.Exchange(Packets6.Ipv6(host, Packets6.StackIp, 253, new byte[8])).Count;
        }
        Assert.Equal(50, sent);
        Assert.Equal(10, f[StatCounter.Icmpv6RateLimited]);
        // 1000 tokens a second: 10 ms brings back 10.
        f.Clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Single(f.Exchange(Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 253, new byte[8])));
    }

    [Fact]
    public void Errors_SixtyInABurstFromOneHost_SixSentTheRestLimitedForThatHost()
    {
        // Six at once, then one every 100 ms (net.ipv6.icmp.ratelimit on Linux 6.18).
        var f = Ipv6Fixture.Create();
        byte[] request = Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 253, new byte[8]);
        int sent = 0;
        for (int i = 0; i < 60; i++)
            sent += f.Exchange(request).Count;
        Assert.Equal(6, sent);
        Assert.Equal(54, f[StatCounter.Icmpv6RateLimitedHost]);
        f.Clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Empty(f.Exchange(request));
        f.Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Single(f.Exchange(request));
    }

    [Fact]
    public void Error_AboutMulticastDestination_Suppressed()
    {
        var f = Ipv6Fixture.Create();
        byte[] request = Packets6.Ipv6(Packets6.HostIp, Ipv6Address.AllNodes, 253, new byte[8]);
        Assert.Empty(f.Exchange(request));
        Assert.Equal(1, f[StatCounter.Icmpv6ErrorsSuppressed]);
    }

    [Fact]
    public void Error_AboutIcmpError_Suppressed()
    {
        var f = Ipv6Fixture.Create();
        byte[] unreachable = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 1, 4, 0, new byte[48]);
        byte[] frame = Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 58, unreachable);
        Assert.False(f.Nic.Ipv6.SendError(0, f.Nic.Addresses, frame, Icmpv6Type.ParameterProblem, 0, 0));
        Assert.Equal(1, f[StatCounter.Icmpv6ErrorsSuppressed]);
    }

    [Fact]
    public void RoutingHeader_WithSegmentsLeft_ParameterProblemAtRoutingType()
    {
        var f = Ipv6Fixture.Create();
        // Routing header type 0 (deprecated, RFC 5095) with one address and one segment left.
        byte[] routing = new byte[24];
        routing[0] = 59;
        routing[1] = 2;
        routing[2] = 0;
        routing[3] = 1;
        byte[] error = Assert.Single(f.Exchange(Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 43, routing)));
        Assert.Equal(Icmpv6Type.ParameterProblem, Ipv6Fixture.TypeOf(error));
        Assert.Equal(0, error[55]);
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
    }

    [Fact]
    public void ThousandEchoRequests_AfterWarmUp_AllocateNothing()
    {
        var f = Ipv6Fixture.Create();
        byte[] ping = Packets6.EchoRequest(Packets6.HostIp, Packets6.StackIp, dataLength: 56);
        byte[] sink = new byte[2048];
        long Run(int batches)
        {
            return AllocationWindow.Measure(() =>
            {
                for (int b = 0; b < batches; b++)
                {
                    f.Link.InjectInboundRepeated(ping, 100);
                    while (f.Link.Read(sink) >= 0)
                    {
                    }
                }
            });
        }
        Run(2);
        long before = f[StatCounter.Icmpv6EchoRepliesSent];
        Assert.Equal(0, Run(10));
        Assert.Equal(1000, f[StatCounter.Icmpv6EchoRepliesSent] - before);
    }

    // An echo request behind a Destination Options header holding one 2-octet option of the given type.
    private static byte[] EchoWithOption(byte optionType, Ipv6Address destination)
    {
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, destination, 128, 0, 0x0001_0001, Packets6.EchoBody(8));
        byte[] payload = [58, 0, optionType, 0, 1, 2, 0, 0, .. echo];
        return Packets6.Ipv6(Packets6.HostIp, destination, 60, payload);
    }

    [Fact]
    public void UnknownOption_ActionSkip_EchoAnswered()
    {
        var f = Ipv6Fixture.Create();
        byte[] reply = Assert.Single(f.Exchange(EchoWithOption(0x1E, Packets6.StackIp)));
        Assert.Equal(Icmpv6Type.EchoReply, Ipv6Fixture.TypeOf(reply));
    }

    [Fact]
    public void UnknownOption_ActionDiscard_DroppedSilently()
    {
        var f = Ipv6Fixture.Create();
        Assert.Empty(f.Exchange(EchoWithOption(0x5E, Packets6.StackIp)));
        Assert.Equal(1, f[StatCounter.Ipv6UnknownOptionDrops]);
    }

    [Theory]
    [InlineData(0x9E)]
    [InlineData(0xDE)]
    public void UnknownOption_ActionReport_ParameterProblemCode2AtOption(byte type)
    {
        var f = Ipv6Fixture.Create();
        byte[] error = Assert.Single(f.Exchange(EchoWithOption(type, Packets6.StackIp)));
        Assert.Equal(Icmpv6Type.ParameterProblem, Ipv6Fixture.TypeOf(error));
        Assert.Equal(2, error[55]);
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
    }

    [Fact]
    public void UnknownOption_ReportUnlessMulticast_ToAllNodesDroppedWithoutError()
    {
        var f = Ipv6Fixture.Create();
        Assert.Empty(f.Exchange(EchoWithOption(0xDE, Ipv6Address.AllNodes)));
        Assert.Equal(1, f[StatCounter.Ipv6UnknownOptionDrops]);
    }
}
