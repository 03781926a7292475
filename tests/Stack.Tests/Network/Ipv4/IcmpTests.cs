using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv4;

public class IcmpTests
{
    private const byte UnknownProtocol = 253;

    [Fact]
    public void EchoRequestFromLinux_ReplyMatchesLinuxReplyExceptIdentification()
    {
        var f = new StackFixture();
        byte[] reply = Assert.Single(f.Exchange(LinuxCaptures.EchoRequest));
        byte[] linux = LinuxCaptures.LinuxEchoReply;
        Assert.Equal(linux.Length, reply.Length);
        // Ethernet header, and the IP header up to identification.
        Assert.Equal(linux[..18], reply[..18]);
        // Flags (no DF, as from Linux's ICMP socket, though the request had it), TTL, protocol, addresses and the
        // whole ICMP message (type 0, checksum, id, seq, data).
        Assert.NotEqual(0, LinuxCaptures.EchoRequest[20] & 0x40);
        Assert.Equal(linux[20..24], reply[20..24]);
        Assert.Equal(linux[26..], reply[26..]);
        // The identification is our own, as Linux's is its own; both checksums verify.
        Assert.Equal(0, Checksum.Compute(reply.AsSpan(14, 20)));
        Assert.Equal(0, Checksum.Compute(reply.AsSpan(34)));
        Assert.Equal(1, f[StatCounter.IcmpEchoRepliesSent]);
    }

    [Fact]
    public void EchoRequest_ReplyWrittenInPlace_SameBufferTransmitted()
    {
        var f = new StackFixture();
        byte[] request = Packets.EchoRequest(Packets.HostIp, Packets.StackIp, dataLength: 100);
        long txBefore = f[StatCounter.TxPackets];
        byte[] reply = Assert.Single(f.Exchange(request));
        Assert.Equal(Packets.HostMac, MacAddress.Read(reply));
        Assert.Equal(Packets.StackMac, MacAddress.Read(reply.AsSpan(6)));
        Assert.Equal(Packets.StackIp, Packets.IpSource(reply));
        Assert.Equal(Packets.HostIp, Packets.IpDestination(reply));
        Assert.Equal(0, reply[34]);
        Assert.Equal(request[38..], reply[38..]);
        Assert.Equal(txBefore + 1, f[StatCounter.TxPackets]);
    }

    [Fact]
    public void EchoReplies_TakeIdentificationsOfTheirOwn()
    {
        var f = new StackFixture();
        byte[] first = Assert.Single(f.Exchange(Packets.EchoRequest(Packets.HostIp, Packets.StackIp, sequence: 1)));
        byte[] second = Assert.Single(f.Exchange(Packets.EchoRequest(Packets.HostIp, Packets.StackIp, sequence: 2)));
        ushort a = BinaryPrimitives.ReadUInt16BigEndian(first.AsSpan(18));
        ushort b = BinaryPrimitives.ReadUInt16BigEndian(second.AsSpan(18));
        Assert.Equal((ushort)(a + 1), b);
        Assert.Equal(0, Checksum.Compute(second.AsSpan(14, 20)));
    }

    [Fact]
    public void TimestampRequest_AnsweredAsLinuxDoes()
    {
        // 13:14:15.678 UTC: 47,655,678 ms after midnight.
        var f = new StackFixture(wallClock: new FixedWallClock(new DateTimeOffset(2026, 12, 7, 13, 14, 15, 678, TimeSpan.Zero)));
        byte[] rest = [0x12, 0x34, 0x00, 0x07, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] request = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 1, Packets.Icmp(13, 0, rest));
        request[15] = 0x10; // TOS: the reply keeps it
        request[24] = request[25] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(24), Checksum.Compute(request.AsSpan(14, 20)));
        byte[] reply = Assert.Single(f.Exchange(request));
        Assert.Equal(14 + 20 + 20, reply.Length);
        Assert.Equal(Packets.HostMac, MacAddress.Read(reply));
        Assert.Equal(Packets.StackIp, Packets.IpSource(reply));
        Assert.Equal(Packets.HostIp, Packets.IpDestination(reply));
        Assert.Equal(0x10, reply[15]);
        Assert.Equal(0, reply[20] & 0x40);
        Assert.Equal(64, reply[22]);
        Assert.Equal(0, Checksum.Compute(reply.AsSpan(14, 20)));
        Assert.Equal(14, reply[34]);
        Assert.Equal(0, reply[35]);
        Assert.Equal(0, Checksum.Compute(reply.AsSpan(34)));
        // Identifier, sequence number and originate timestamp come back; receive and transmit are now.
        Assert.Equal(rest[..8], reply[38..46]);
        Assert.Equal(47_655_678u, BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(46)));
        Assert.Equal(47_655_678u, BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(50)));
        Assert.Equal(1, f[StatCounter.IcmpTimestampRequestsReceived]);
        Assert.Equal(1, f[StatCounter.IcmpTimestampRepliesSent]);
    }

    [Fact]
    public void TimestampRequest_ToBroadcastOrTooShort_NotAnswered()
    {
        var f = new StackFixture();
        Assert.Empty(f.Exchange(Packets.Ipv4(Packets.HostIp, Ipv4Address.Parse("198.18.0.255"), 1, Packets.Icmp(13, 0, new byte[16]), to: MacAddress.Broadcast)));
        Assert.Empty(f.Exchange(Packets.Ipv4(Packets.HostIp, Packets.StackIp, 1, Packets.Icmp(13, 0, new byte[7]))));
        Assert.Equal(0, f[StatCounter.IcmpTimestampRepliesSent]);
    }

    [Fact]
    public void EchoRequest_BadIcmpChecksum_NoReply()
    {
        var f = new StackFixture();
        byte[] request = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        request[^1] ^= 0x55;
        Assert.Empty(f.Exchange(request));
        Assert.Equal(1, f[StatCounter.IcmpInvalidReceived]);
    }

    [Fact]
    public void Error_AboutIcmpError_NotSent()
    {
        var f = new StackFixture();
        byte[] icmpError = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 1, Packets.Icmp(3, 3, new byte[32]));
        Assert.False(f.Nic.Ipv4.SendError(0, f.Nic.Addresses, icmpError, Icmpv4Type.TimeExceeded, 0, 0));
        Assert.Equal(1, f[StatCounter.IcmpErrorsSuppressed]);
        Assert.Empty(f.Link.ReadAll());
    }

    [Fact]
    public void Error_AboutIcmpQuery_Sent()
    {
        var f = new StackFixture();
        byte[] echo = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        Assert.True(f.Nic.Ipv4.SendError(0, f.Nic.Addresses, echo, Icmpv4Type.TimeExceeded, 0, 0));
        byte[] error = Assert.Single(f.Link.ReadAll());
        Assert.Equal((byte)Icmpv4Type.TimeExceeded, error[34]);
        Assert.Equal(1, f[StatCounter.IcmpTimeExceededSent]);
    }

    [Fact]
    public void Error_AboutNonFirstFragment_NotSent()
    {
        var f = new StackFixture();
        byte[] fragment = Packets.Ipv4(Packets.HostIp, Packets.StackIp, UnknownProtocol, new byte[8], flagsFragment: 0x0001);
        Assert.False(f.Nic.Ipv4.SendError(0, f.Nic.Addresses, fragment, Icmpv4Type.DestinationUnreachable, 2, 0));
        Assert.Equal(1, f[StatCounter.IcmpErrorsSuppressed]);
    }

    [Theory]
    [InlineData("255.255.255.255")]
    [InlineData("198.18.0.255")]
    [InlineData("224.0.0.1")]
    public void Error_ForBroadcastOrMulticastDestination_NotSent(string destination)
    {
        var f = new StackFixture();
        var group = Ipv4Address.Parse("224.0.0.1");
        f.Stack.JoinGroup(StackFixture.Nic1, group);
        byte[] packet = Packets.Ipv4(Packets.HostIp, Ipv4Address.Parse(destination), UnknownProtocol, new byte[8], to: MacAddress.Broadcast);
        Assert.Empty(f.Exchange(packet));
        Assert.Equal(1, f[StatCounter.UnknownTransportProtocolPackets]);
        Assert.Equal(1, f[StatCounter.IcmpErrorsSuppressed]);
    }

    [Fact]
    public void Error_ForLinkBroadcastFrame_NotSent()
    {
        var f = new StackFixture();
        byte[] packet = Packets.Ipv4(Packets.HostIp, Packets.StackIp, UnknownProtocol, new byte[8], to: MacAddress.Broadcast);
        Assert.Empty(f.Exchange(packet));
        Assert.Equal(1, f[StatCounter.IcmpErrorsSuppressed]);
    }

    [Fact]
    public void Error_ForUnspecifiedSource_NotSent()
    {
        // Such a packet is a martian on receipt (Ipv4ReceiveTests); the error path refuses it on its own too.
        var f = new StackFixture();
        byte[] packet = Packets.Ipv4(Ipv4Address.Any, Packets.StackIp, UnknownProtocol, new byte[8]);
        Assert.False(f.Nic.Ipv4.SendError(0, f.Nic.Addresses, packet, Icmpv4Type.DestinationUnreachable, 2, 0));
        Assert.Equal(1, f[StatCounter.IcmpErrorsSuppressed]);
        Assert.Empty(f.Exchange(packet));
        Assert.Equal(1, f[StatCounter.Ipv4InvalidSourceAddressesReceived]);
    }

    [Fact]
    public void Error_ForEchoRequestInside_AllowedForQueries()
    {
        // An error may be sent about an ICMP query (echo): simulate with a Protocol Unreachable
        // about an unknown protocol, then check the quoted header follows RFC 792.
        var f = new StackFixture();
        byte[] offending = Packets.Ipv4(Packets.HostIp, Packets.StackIp, UnknownProtocol, new byte[40]);
        byte[] error = Assert.Single(f.Exchange(offending));
        Assert.Equal(Packets.HostIp, Packets.IpDestination(error));
        Assert.Equal(Packets.StackIp, Packets.IpSource(error));
        Assert.Equal(0, Checksum.Compute(error.AsSpan(14, 20)));
        Assert.Equal(0, Checksum.Compute(error.AsSpan(34)));
        // The quote: the offending IP header and its data, from byte 42 on.
        Assert.Equal(offending[14..], error[42..]);
    }

    [Fact]
    public void ErrorRateLimit_After50Burst_NoMoreUntilTokensRefill()
    {
        // Sixty hosts, one error each: the host-wide bucket (1000/s, burst 50).
        var f = new StackFixture();
        byte[] From(int i) => Packets.Ipv4(new Ipv4Address(Packets.HostIp.Value + 100 + (uint)i), Packets.StackIp, UnknownProtocol, new byte[8]);
        int sent = 0;
        for (int i = 0; i < 60; i++)
            sent += f.Exchange(From(i)).Count;
        Assert.Equal(50, sent);
        Assert.Equal(10, f[StatCounter.IcmpRateLimited]);

        // 1000 tokens a second: 10 ms brings back 10.
        f.Clock.Advance(TimeSpan.FromMilliseconds(10));
        sent = 0;
        for (int i = 60; i < 80; i++)
            sent += f.Exchange(From(i)).Count;
        Assert.Equal(10, sent);
    }

    [Fact]
    public void ErrorRateLimit_OneHost_SixThenOneASecond()
    {
        // Linux's per-destination limit (inet_peer_xrlim_allow, icmp_ratelimit 1000 ms, burst factor 6).
        var f = new StackFixture();
        byte[] offending = Packets.Ipv4(Packets.HostIp, Packets.StackIp, UnknownProtocol, new byte[8]);
        int sent = 0;
        for (int i = 0; i < 60; i++)
            sent += f.Exchange(offending).Count;
        Assert.Equal(6, sent);
        Assert.Equal(54, f[StatCounter.IcmpRateLimitedHost]);
        Assert.Equal(0, f[StatCounter.IcmpRateLimited]);
        f.Clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Empty(f.Exchange(offending));
        f.Clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Single(f.Exchange(offending));
    }

    [Fact]
    public void EchoReplies_NotRateLimited()
    {
        var f = new StackFixture();
        byte[] ping = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        int sent = 0;
        for (int i = 0; i < 200; i++)
            sent += f.Exchange(ping).Count;
        Assert.Equal(200, sent);
        Assert.Equal(0, f[StatCounter.IcmpRateLimited]);
    }

    [Fact]
    public void SendIcmpv4Error_ForForwarder_TimeExceededQuotesPacket()
    {
        var f = new StackFixture();
        byte[] transit = Packets.Ipv4(Packets.HostIp, Ipv4Address.Parse("198.19.0.9"), 17, new byte[16], ttl: 1);
        Assert.True(f.Nic.SendIcmpv4Error(0, transit, Icmpv4Type.TimeExceeded, 0));
        byte[] error = Assert.Single(f.Link.ReadAll());
        Assert.Equal(Packets.HostMac, MacAddress.Read(error));
        Assert.Equal(Packets.StackIp, Packets.IpSource(error));
        Assert.Equal((byte)Icmpv4Type.TimeExceeded, error[34]);
        Assert.Equal(transit[14..], error[42..]);
    }
}
