using System.Buffers.Binary;
using XdpStack.Stack.Link;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.Wire;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport.Udp;

public class UdpServiceTests
{
    private const ushort EchoPort = 7;
    private const ushort DiscardPort = 9;
    private const ushort ClientPort = 40000;

    private static readonly byte[] Payload = [.. "echo, echo, echo"u8, 0x00, 0xFF, 0x80];

    private static UdpFixture WithServices()
    {
        var u = new UdpFixture();
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Echo, EchoPort));
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Discard, DiscardPort));
        return u;
    }

    /// <summary>
    /// The frame a Linux echo server would send back, written field by field with the reference
    /// checksum: to the client's MAC, TOS 0, the given (fresh) identification with DF, TTL 64, ports swapped.
    /// </summary>
    private static byte[] ExpectedReply4(Ipv4Address server, Ipv4Address client, ushort serverPort, ushort clientPort, ReadOnlySpan<byte> payload, ushort identification)
    {
        byte[] frame = new byte[14 + 20 + 8 + payload.Length];
        Packets.HostMac.CopyTo(frame);
        Packets.StackMac.CopyTo(frame.AsSpan(6));
        frame[12] = 0x08;
        Span<byte> ip = frame.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 8 + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], identification);
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = 17;
        server.CopyTo(ip[12..]);
        client.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], ChecksumReference.Compute(ip));
        Span<byte> udp = frame.AsSpan(34);
        BinaryPrimitives.WriteUInt16BigEndian(udp, serverPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], clientPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload.Length));
        payload.CopyTo(udp[8..]);
        byte[] pseudo = [.. ip.Slice(12, 8), 0, 17, .. udp.Slice(4, 2), .. udp];
        ushort sum = ChecksumReference.Compute(pseudo);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], sum == 0 ? (ushort)0xFFFF : sum);
        return frame;
    }

    /// <summary>The IPv6 counterpart: traffic class and flow label 0, hop limit 64, no extension headers.</summary>
    private static byte[] ExpectedReply6(Ipv6Address server, Ipv6Address client, ushort serverPort, ushort clientPort, ReadOnlySpan<byte> payload)
    {
        byte[] udp = UdpFixture.Datagram(serverPort, clientPort, payload);
        ushort sum = Packets6.Checksum6(server, client, 17, udp);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), sum == 0 ? (ushort)0xFFFF : sum);
        byte[] frame = Packets6.Ipv6(server, client, 17, udp, hopLimit: 64, to: Packets.HostMac, from: Packets.StackMac);
        // As from a Linux socket: traffic class 0 and the flow's automatic label, the same for every reply of the flow.
        uint label = XdpStack.Stack.Network.Ipv6.Ipv6FlowLabel.For(server, client, IpProtocol.Udp, serverPort, clientPort);
        Assert.NotEqual(0u, label);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(14), 0x6000_0000u | label);
        return frame;
    }

    /// <summary>Hands <paramref name="request"/> to the NIC as a batch of one lying at offset 64 of a 0xA5-filled buffer, as a UMEM frame would; returns the buffer and the descriptor afterwards.</summary>
    private static (byte[] Memory, Frame Descriptor) DeliverInPlace(StackFixture f, byte[] request)
    {
        byte[] memory = new byte[4096];
        memory.AsSpan().Fill(0xA5);
        request.CopyTo(memory, 64);
        Frame[] frames = [new Frame(64, request.Length)];
        f.Nic.DeliverNetworkPackets(new FrameBatch(memory, frames, 0));
        return (memory, frames[0]);
    }

    private static void RecomputeIpv4HeaderChecksum(byte[] frame)
    {
        int headerLength = (frame[14] & 0xF) * 4;
        frame[24] = 0;
        frame[25] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), ChecksumReference.Compute(frame.AsSpan(14, headerLength)));
    }

    private static ushort Identification(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadUInt16BigEndian(frame[18..]);

    [Fact]
    public void Echo_Ipv4Datagram_TurnedAroundInItsOwnFrame()
    {
        var u = WithServices();
        byte[] request = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, Payload);
        // What a socket's reply never copies from the request: TOS, TTL, identification.
        request[15] = 0xB8;
        request[22] = 5;
        RecomputeIpv4HeaderChecksum(request);
        long txBefore = u.F[StatCounter.TxPackets];
        long ipv4SentBefore = u.F[StatCounter.Ipv4PacketsSent];

        (byte[] memory, Frame descriptor) = DeliverInPlace(u.F, request);

        Assert.Equal(FrameAction.Transmit, descriptor.Action);
        Assert.Equal(64, descriptor.Offset);
        Span<byte> reply = memory.AsSpan(descriptor.Offset, descriptor.Length);
        Assert.Equal(ExpectedReply4(Packets.StackIp, Packets.HostIp, EchoPort, ClientPort, Payload, Identification(reply)), reply.ToArray());
        Assert.Empty(u.F.Link.ReadAll());
        // Each reply gets an identification of its own.
        (byte[] next, Frame nextDescriptor) = DeliverInPlace(u.F, request);
        Assert.NotEqual(Identification(reply), Identification(next.AsSpan(nextDescriptor.Offset)));
        Assert.Equal(2, u.F[StatCounter.UdpEchoReplies]);
        Assert.Equal(2 * Payload.Length, u.F[StatCounter.UdpEchoBytes]);
        Assert.Equal(2, u.F[StatCounter.UdpDatagramsReceived]);
        Assert.Equal(2, u.F[StatCounter.UdpDatagramsSent]);
        Assert.Equal(2, u.F[StatCounter.Ipv4PacketsSent] - ipv4SentBefore);
        Assert.Equal(2, u.F[StatCounter.TxPackets] - txBefore);
    }

    [Fact]
    public void Echo_Ipv6Datagram_TurnedAroundInItsOwnFrame()
    {
        var u = WithServices();
        byte[] request = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, ClientPort, EchoPort, Payload, hopLimit: 3);
        // Traffic class and flow label are the sender's; a socket's reply starts with zeros.
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(14), 0x6B8A_BCDE);
        long ipv6SentBefore = u.F[StatCounter.Ipv6PacketsSent];

        (byte[] memory, Frame descriptor) = DeliverInPlace(u.F, request);

        Assert.Equal(FrameAction.Transmit, descriptor.Action);
        byte[] expected = ExpectedReply6(Packets6.StackIp, Packets6.HostIp, EchoPort, ClientPort, Payload);
        Assert.Equal(expected, memory.AsSpan(descriptor.Offset, descriptor.Length).ToArray());
        Assert.Equal(1, u.F[StatCounter.UdpEchoReplies]);
        Assert.Equal(Payload.Length, u.F[StatCounter.UdpEchoBytes]);
        Assert.Equal(1, u.F[StatCounter.Ipv6PacketsSent] - ipv6SentBefore);
    }

    [Fact]
    public void Echo_Ipv4WithOptions_ReplyHasBareHeader()
    {
        var u = WithServices();
        byte[] udp = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, Payload).AsSpan(34).ToArray();
        // IHL 6: one word of options, NOP NOP NOP End of Option List.
        byte[] request = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 17, udp, ihl: 6);
        request[34] = 1;
        request[35] = 1;
        request[36] = 1;
        RecomputeIpv4HeaderChecksum(request);

        (byte[] memory, Frame descriptor) = DeliverInPlace(u.F, request);

        Assert.Equal(FrameAction.Transmit, descriptor.Action);
        Span<byte> reply = memory.AsSpan(descriptor.Offset, descriptor.Length);
        Assert.Equal(ExpectedReply4(Packets.StackIp, Packets.HostIp, EchoPort, ClientPort, Payload, Identification(reply)), reply.ToArray());
    }

    [Fact]
    public void Echo_Ipv6BehindDestinationOptions_ReplyHasBareHeader()
    {
        var u = WithServices();
        byte[] udp = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, ClientPort, EchoPort, Payload).AsSpan(54).ToArray();
        // Destination Options: next header 17, length 0 (8 octets), one PadN option of 4 octets.
        byte[] request = Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 60, [17, 0, 1, 4, 0, 0, 0, 0, .. udp]);

        (byte[] memory, Frame descriptor) = DeliverInPlace(u.F, request);

        Assert.Equal(FrameAction.Transmit, descriptor.Action);
        Assert.Equal(ExpectedReply6(Packets6.StackIp, Packets6.HostIp, EchoPort, ClientPort, Payload), memory.AsSpan(descriptor.Offset, descriptor.Length).ToArray());
    }

    [Fact]
    public void Echo_EmptyDatagramInPaddedFrame_ReplyEndsAtUdpLength()
    {
        var u = WithServices();
        byte[] request = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, []);
        // Ethernet pads the 42-octet frame to 60; the pad is no part of the datagram.
        byte[] padded = [.. request, .. new byte[60 - request.Length]];

        byte[] reply = Assert.Single(u.F.Exchange(padded));

        Assert.Equal(ExpectedReply4(Packets.StackIp, Packets.HostIp, EchoPort, ClientPort, [], Identification(reply)), reply);
        Assert.Equal(0, u.F[StatCounter.UdpEchoBytes]);
    }

    [Fact]
    public void Echo_Ipv4WithoutChecksum_ReplyCarriesOne()
    {
        var u = WithServices();
        byte[] request = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, Payload, zeroChecksum: true);

        byte[] reply = Assert.Single(u.F.Exchange(request));

        Assert.Equal(ExpectedReply4(Packets.StackIp, Packets.HostIp, EchoPort, ClientPort, Payload, Identification(reply)), reply);
    }

    [Fact]
    public void Discard_BothFamilies_CountedNoReplyNoPortUnreachable()
    {
        var u = WithServices();
        Assert.Empty(u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, DiscardPort, Payload)));
        Assert.Empty(u.F.Exchange(UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, ClientPort, DiscardPort, Payload)));
        Assert.Equal(2, u.F[StatCounter.UdpDiscarded]);
        Assert.Equal(2 * Payload.Length, u.F[StatCounter.UdpDiscardedBytes]);
        Assert.Equal(2, u.F[StatCounter.UdpDatagramsReceived]);
        Assert.Equal(0, u.F[StatCounter.UdpUnknownPortErrors]);
        Assert.Equal(0, u.F[StatCounter.UdpEchoReplies]);
    }

    [Fact]
    public void Echo_EndpointBoundToPort_EndpointTakesItUntilClosed()
    {
        var u = WithServices();
        byte[] request4 = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, Payload);
        byte[] request6 = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, ClientPort, EchoPort, Payload);
        UdpEndpoint socket = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, socket.Bind(Ipv4Address.Any, EchoPort));

        Assert.Empty(u.F.Exchange(request4));
        Assert.Equal(1, socket.Available);
        // The socket holds IPv4 only; the service still answers IPv6.
        Assert.Single(u.F.Exchange(request6));

        socket.Dispose();
        byte[] reply = Assert.Single(u.F.Exchange(request4));
        Assert.Equal(ExpectedReply4(Packets.StackIp, Packets.HostIp, EchoPort, ClientPort, Payload, Identification(reply)), reply);
        Assert.Equal(2, u.F[StatCounter.UdpEchoReplies]);
    }

    [Fact]
    public void Echo_ServiceOnOneAddress_WinsOverWildcardOnSamePort()
    {
        var u = new UdpFixture();
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Echo, 9000));
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Discard, 9000, Packets.StackIp));

        Assert.Empty(u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, 9000, Payload)));
        Assert.Single(u.F.Exchange(UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, ClientPort, 9000, Payload)));
        Assert.Equal(1, u.F[StatCounter.UdpDiscarded]);
        Assert.Equal(1, u.F[StatCounter.UdpEchoReplies]);
    }

    [Fact]
    public void AddService_Overlaps_PortInUseOtherwiseAdded()
    {
        var u = new UdpFixture();
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Echo, 7, Ipv6Address.Any));
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Discard, 7, Ipv4Address.Any));
        // Null covers both families, each already taken.
        Assert.Equal(StackError.PortInUse, u.Udp.AddService(UdpServiceKind.Echo, 7));
        Assert.Equal(StackError.PortInUse, u.Udp.AddService(UdpServiceKind.Echo, 7, Ipv6Address.Any));
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Echo, 7, Packets.StackIp));
        Assert.Equal(StackError.PortInUse, u.Udp.AddService(UdpServiceKind.Discard, 7, Packets.StackIp));
        Assert.Equal(StackError.BadAddress, u.Udp.AddService(UdpServiceKind.Echo, 0));
        Assert.Equal(StackError.BadAddress, u.Udp.AddService(UdpServiceKind.Echo, 8, Ipv4Address.Parse("224.0.0.1")));
        Assert.Throws<ArgumentOutOfRangeException>(() => u.Udp.AddService((UdpServiceKind)7, 8));
        UdpService[] expected =
        [
            new(UdpServiceKind.Echo, 7, Ipv6Address.Any),
            new(UdpServiceKind.Discard, 7, Ipv4Address.Any),
            new(UdpServiceKind.Echo, 7, Packets.StackIp),
        ];
        Assert.Equal(expected, u.Udp.Services);
    }

    [Fact]
    public void RemoveService_Removed_PortUnreachableAgain()
    {
        var u = WithServices();
        byte[] request = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, Payload);
        Assert.Single(u.F.Exchange(request));
        Assert.False(u.Udp.RemoveService(UdpServiceKind.Discard, EchoPort));
        Assert.False(u.Udp.RemoveService(UdpServiceKind.Echo, EchoPort, Packets.StackIp));

        Assert.True(u.Udp.RemoveService(UdpServiceKind.Echo, EchoPort));

        byte[] error = Assert.Single(u.F.Exchange(request));
        Assert.Equal(1, error[23]);
        Assert.Equal(3, error[34]);
        Assert.Equal(3, error[35]);
        Assert.Equal(1, u.F[StatCounter.UdpEchoReplies]);
        Assert.Equal(1, u.F[StatCounter.UdpUnknownPortErrors]);
        UdpService[] left = [new(UdpServiceKind.Discard, DiscardPort, null)];
        Assert.Equal(left, u.Udp.Services);
    }

    [Fact]
    public void AddService_OnEphemeralPort_EphemeralBindSkipsIt()
    {
        var u = new UdpFixture();
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Echo, 32768, Ipv4Address.Any));
        using UdpEndpoint socket = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, socket.Bind(Ipv4Address.Any, 0));
        Assert.Equal(32769, socket.Id!.Value.LocalPort);
    }

    public static TheoryData<string, byte[]> GroupAndUnownedDestinations()
    {
        Ipv4Address group = Ipv4Address.Parse("224.0.0.251");
        return new()
        {
            { "limited broadcast", UdpFixture.Udp4(Packets.HostIp, Ipv4Address.Broadcast, ClientPort, EchoPort, Payload, to: MacAddress.Broadcast) },
            { "subnet broadcast", UdpFixture.Udp4(Packets.HostIp, Ipv4Address.Parse("198.18.0.255"), ClientPort, EchoPort, Payload, to: MacAddress.Broadcast) },
            { "joined group", UdpFixture.Udp4(Packets.HostIp, group, ClientPort, EchoPort, Payload, to: MacAddress.FromIpv4Multicast(group)) },
            { "our address in a broadcast frame", UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, Payload, to: MacAddress.Broadcast) },
            { "in an added subnet, its broadcast", UdpFixture.Udp4(Packets.HostIp, Ipv4Address.Parse("198.19.0.255"), ClientPort, EchoPort, Payload) },
            { "all nodes", UdpFixture.Udp6(Packets6.HostIp, Ipv6Address.AllNodes, ClientPort, EchoPort, Payload) },
            { "from ::", UdpFixture.Udp6(Ipv6Address.Any, Packets6.StackIp, ClientPort, EchoPort, Payload) },
            { "from port 1023", UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, 1023, EchoPort, Payload) },
            { "from port 7 over IPv6", UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, 7, EchoPort, Payload) },
        };
    }

    [Theory]
    [MemberData(nameof(GroupAndUnownedDestinations))]
    public void Echo_NotFromOneHostToOurUnicastAddress_ConsumedUnanswered(string why, byte[] request)
    {
        var u = WithServices();
        Assert.Equal(StackError.None, u.F.Stack.JoinGroup(StackFixture.Nic1, Ipv4Address.Parse("224.0.0.251")));
        Assert.Equal(StackError.None, u.F.Stack.AddSubnet(StackFixture.Nic1, Ipv4Prefix.Parse("198.19.0.0/24")));
        u.F.Link.Clear();

        Assert.Empty(u.F.Exchange(request));

        Assert.True(u.F[StatCounter.UdpEchoRefused] == 1, why);
        Assert.Equal(0, u.F[StatCounter.UdpEchoReplies]);
        Assert.Equal(0, u.F[StatCounter.UdpUnknownPortErrors]);
    }

    [Fact]
    public void Echo_AddressInAddedSubnetFromPort1024_Answered()
    {
        var u = WithServices();
        Ipv4Address inSubnet = Ipv4Address.Parse("198.19.0.7");
        Assert.Equal(StackError.None, u.F.Stack.AddSubnet(StackFixture.Nic1, Ipv4Prefix.Parse("198.19.0.0/24")));
        u.F.Link.Clear();

        byte[] reply = Assert.Single(u.F.Exchange(UdpFixture.Udp4(Packets.HostIp, inSubnet, 1024, EchoPort, Payload)));

        Assert.Equal(ExpectedReply4(inSubnet, Packets.HostIp, EchoPort, 1024, Payload, Identification(reply)), reply);
    }

    [Fact]
    public void Echo_FragmentedIpv4RequestThatFits_OneAtomicReply()
    {
        var u = WithServices();
        byte[] udp = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, new byte[40]).AsSpan(34).ToArray();
        Assert.Empty(u.F.Exchange(Packets.Ipv4(Packets.HostIp, Packets.StackIp, 17, udp.AsSpan(0, 24), id: 0x4242, flagsFragment: 0x2000)));

        byte[] reply = Assert.Single(u.F.Exchange(Packets.Ipv4(Packets.HostIp, Packets.StackIp, 17, udp.AsSpan(24), id: 0x4242, flagsFragment: 24 / 8)));

        Assert.Equal(ExpectedReply4(Packets.StackIp, Packets.HostIp, EchoPort, ClientPort, new byte[40], Identification(reply)), reply);
        Assert.Equal(1, u.F[StatCounter.Ipv4PacketsReassembled]);
        Assert.Equal(1, u.F[StatCounter.UdpEchoReplies]);
    }

    [Fact]
    public void Echo_FragmentedIpv4RequestLargerThanMtu_ReplyLeavesInFragments()
    {
        var u = WithServices();
        byte[] payload = new byte[2992];
        for (int i = 0; i < payload.Length; i++)
            payload[i] = (byte)(i * 13);
        byte[] udp = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, payload).AsSpan(34).ToArray();
        var replies = new List<byte[]>();
        for (int offset = 0; offset < udp.Length; offset += 1480)
        {
            int length = Math.Min(1480, udp.Length - offset);
            ushort flags = (ushort)((offset + length < udp.Length ? 0x2000 : 0) | (offset / 8));
            replies.AddRange(u.F.Exchange(Packets.Ipv4(Packets.HostIp, Packets.StackIp, 17, udp.AsSpan(offset, length), id: 0x5151, flagsFragment: flags)));
        }

        Assert.Equal(3, replies.Count);
        ushort identification = Identification(replies[0]);
        byte[] expected = ExpectedReply4(Packets.StackIp, Packets.HostIp, EchoPort, ClientPort, payload, identification);
        byte[] reassembled = new byte[udp.Length];
        foreach (byte[] fragment in replies)
        {
            Assert.True(fragment.Length - 14 <= 1500);
            Assert.Equal(0, ChecksumReference.Compute(fragment.AsSpan(14, 20)));
            Assert.Equal(expected.AsSpan(26, 8).ToArray(), fragment.AsSpan(26, 8).ToArray());
            Assert.Equal(identification, Identification(fragment));
            ushort flags = BinaryPrimitives.ReadUInt16BigEndian(fragment.AsSpan(20));
            Assert.Equal(0, flags & 0x4000);
            int offset = (flags & 0x1FFF) * 8;
            Assert.Equal(offset + fragment.Length - 34 < udp.Length, (flags & 0x2000) != 0);
            fragment.AsSpan(34).CopyTo(reassembled.AsSpan(offset));
        }
        Assert.Equal(expected.AsSpan(34).ToArray(), reassembled);
        Assert.Equal(1, u.F[StatCounter.UdpEchoReplies]);
        Assert.Equal(payload.Length, u.F[StatCounter.UdpEchoBytes]);
    }

    [Fact]
    public void Echo_FragmentedIpv6RequestThatFits_OneReplyWithoutFragmentHeader()
    {
        var u = WithServices();
        byte[] udp = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, ClientPort, EchoPort, Payload).AsSpan(54).ToArray();
        Assert.Empty(u.F.Exchange(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 17, 0, true, 0x1234, udp.AsSpan(0, 16))));

        byte[] reply = Assert.Single(u.F.Exchange(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 17, 16, false, 0x1234, udp.AsSpan(16))));

        Assert.Equal(ExpectedReply6(Packets6.StackIp, Packets6.HostIp, EchoPort, ClientPort, Payload), reply);
        Assert.Equal(1, u.F[StatCounter.Ipv6PacketsReassembled]);
    }

    [Fact]
    public void Echo_FragmentedIpv6RequestLargerThanMtu_CountedUnanswered()
    {
        var u = WithServices();
        byte[] udp = UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, ClientPort, EchoPort, new byte[2992]).AsSpan(54).ToArray();
        var sent = new List<byte[]>();
        for (int offset = 0; offset < udp.Length; offset += 1448)
        {
            int length = Math.Min(1448, udp.Length - offset);
            sent.AddRange(u.F.Exchange(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 17, offset, offset + length < udp.Length, 0x77, udp.AsSpan(offset, length))));
        }

        Assert.Empty(sent);
        Assert.Equal(1, u.F[StatCounter.Ipv6PacketsReassembled]);
        Assert.Equal(1, u.F[StatCounter.UdpEchoReplyErrors]);
        Assert.Equal(0, u.F[StatCounter.UdpEchoReplies]);
    }

    [Fact]
    public void Echo_TwoWorkers_IdentificationsNeverShared()
    {
        var u = new UdpFixture(workers: 2);
        Assert.Equal(StackError.None, u.Udp.AddService(UdpServiceKind.Echo, EchoPort));
        byte[] request = UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, Payload);
        var seen = new HashSet<ushort>();
        for (int i = 0; i < 200; i++)
        {
            byte[] reply = Assert.Single(u.F.Exchange(request, worker: i % 2));
            Assert.True(seen.Add(Identification(reply)));
        }
        Assert.Equal(200, u.F[StatCounter.UdpEchoReplies]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Echo_ThousandDatagrams_AfterWarmUp_AllocateNothing(bool ipv6)
    {
        var u = WithServices();
        byte[] request = ipv6
            ? UdpFixture.Udp6(Packets6.HostIp, Packets6.StackIp, ClientPort, EchoPort, new byte[64])
            : UdpFixture.Udp4(Packets.HostIp, Packets.StackIp, ClientPort, EchoPort, new byte[64]);
        byte[] sink = new byte[2048];
        long Run(int batches)
        {
            return AllocationWindow.Measure(() =>
            {
                for (int b = 0; b < batches; b++)
                {
                    u.F.Link.InjectInboundRepeated(request, 100);
                    while (u.F.Link.Read(sink) >= 0)
                    {
                    }
                }
            });
        }
        Run(2);
        long repliesBefore = u.F[StatCounter.UdpEchoReplies];

        Assert.Equal(0, Run(10));
        Assert.Equal(1000, u.F[StatCounter.UdpEchoReplies] - repliesBefore);
        Assert.Equal(0, u.F.Link.Dropped);
    }
}
