using System.Buffers.Binary;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv6;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.Transport.Udp;
using XdpStack.Stack.Transport.Raw;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv6;

/// <summary>IPv6 packets the stack sends that exceed the MTU leave in fragments (RFC 8200 §4.5, issue 11), checked field by field, by an independent reassembly here, and by a second stack's reassembler.</summary>
public class Ipv6FragmentationTests
{
    private const ushort EchoId = 0x0b0b;
    private const ushort EchoSequence = 7;

    /// <summary>One fragment as sent: its Fragment header's fields and its data.</summary>
    private sealed record SentFragment(byte[] Frame, int PerFragmentLength, byte NextHeader, int Offset, bool More, uint Identification, byte[] Data);

    // An ICMPv6 echo request of 8 + dataLength octets from the host, cut as Linux cuts it for a 1500 MTU.
    private static List<byte[]> EchoRequestFragments(int dataLength, uint identification, int chunk = 1448)
    {
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 128, 0, ((uint)EchoId << 16) | EchoSequence, Packets6.EchoBody(dataLength));
        return Cut(58, echo, identification, chunk);
    }

    private static List<byte[]> Cut(byte nextHeader, byte[] upper, uint identification, int chunk)
    {
        var fragments = new List<byte[]>();
        for (int offset = 0; offset < upper.Length; offset += chunk)
        {
            int length = Math.Min(chunk, upper.Length - offset);
            fragments.Add(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, nextHeader, offset, offset + length < upper.Length, identification, upper.AsSpan(offset, length)));
        }
        return fragments;
    }

    // Reads a sent frame with the Fragment header right after perFragmentLength octets of IPv6 headers.
    private static SentFragment Parse(byte[] frame, int perFragmentLength = 40)
    {
        Assert.Equal(0x86DD, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(18));
        Assert.Equal(frame.Length, 14 + 40 + payloadLength);
        Span<byte> fragmentHeader = frame.AsSpan(14 + perFragmentLength, 8);
        Assert.Equal(0, fragmentHeader[1]);
        ushort offsetWord = BinaryPrimitives.ReadUInt16BigEndian(fragmentHeader[2..]);
        // The two reserved bits between the offset and M are zero.
        Assert.Equal(0, offsetWord & 6);
        return new SentFragment(frame, perFragmentLength, fragmentHeader[0], offsetWord & 0xFFF8, (offsetWord & 1) != 0,
            BinaryPrimitives.ReadUInt32BigEndian(fragmentHeader[4..]), frame[(14 + perFragmentLength + 8)..]);
    }

    // Reassembles in the test, by the RFC and nothing of the stack's: same identification, data
    // contiguous from offset 0, M on all but the last; returns the fragmentable part.
    private static byte[] ReassembleIndependently(List<SentFragment> fragments)
    {
        var ordered = fragments.OrderBy(x => x.Offset).ToList();
        var whole = new List<byte>();
        foreach (SentFragment fragment in ordered)
        {
            Assert.Equal(ordered[0].Identification, fragment.Identification);
            Assert.Equal(ordered[0].NextHeader, fragment.NextHeader);
            Assert.Equal(whole.Count, fragment.Offset);
            Assert.Equal(fragment != ordered[^1], fragment.More);
            whole.AddRange(fragment.Data);
        }
        return [.. whole];
    }

    // The echo reply the stack owes for EchoRequestFragments, built here from the RFC.
    private static byte[] ExpectedEchoReply(int dataLength) =>
        Packets6.Icmpv6(Packets6.StackIp, Packets6.HostIp, 129, 0, ((uint)EchoId << 16) | EchoSequence, Packets6.EchoBody(dataLength));

    [Theory]
    [InlineData(1500, new[] { 1448, 1448, 112 })]
    [InlineData(1280, new[] { 1232, 1232, 544 })]
    public void EchoRequest3000_Reassembled_ReplyInFragmentsOfLinuxSizes(int mtu, int[] sizes)
    {
        StackFixture f = Ipv6Fixture.Create(mtu: mtu);
        List<byte[]> request = EchoRequestFragments(3000, 0xabcd, chunk: (mtu - 48) & ~7);
        List<byte[]> sent = [];
        foreach (byte[] fragment in request)
            sent.AddRange(f.Exchange(fragment));

        Assert.Equal(sizes.Length, sent.Count);
        var fragments = sent.Select(x => Parse(x)).ToList();
        int expectedOffset = 0;
        for (int i = 0; i < sent.Count; i++)
        {
            byte[] frame = sent[i];
            Assert.True(frame.Length - 14 <= mtu, $"fragment {i} is {frame.Length - 14} octets");
            Assert.Equal(Packets.HostMac, MacAddress.Read(frame));
            Assert.Equal(Packets.StackMac, MacAddress.Read(frame.AsSpan(6)));
            Assert.Equal(0x60, frame[14] & 0xF0);
            Assert.Equal(44, frame[20]);
            Assert.Equal(64, frame[21]);
            Assert.Equal(Packets6.StackIp, Packets6.Source(frame));
            Assert.Equal(Packets6.HostIp, Packets6.Destination(frame));
            Assert.Equal(58, fragments[i].NextHeader);
            Assert.Equal(sizes[i], fragments[i].Data.Length);
            Assert.Equal(expectedOffset, fragments[i].Offset);
            Assert.Equal(i < sent.Count - 1, fragments[i].More);
            Assert.Equal(fragments[0].Identification, fragments[i].Identification);
            // Every fragment but the last carries a multiple of 8 octets.
            Assert.True(!fragments[i].More || fragments[i].Data.Length % 8 == 0);
            expectedOffset += sizes[i];
        }

        byte[] reply = ReassembleIndependently(fragments);
        Assert.Equal(ExpectedEchoReply(3000), reply);
        Assert.Equal(0, Packets6.Checksum6(Packets6.StackIp, Packets6.HostIp, 58, reply));

        Assert.Equal(1, f[StatCounter.Icmpv6EchoRepliesSent]);
        Assert.Equal(1, f[StatCounter.Ipv6PacketsSent]);
        Assert.Equal(1, f[StatCounter.Ipv6PacketsFragmented]);
        Assert.Equal(sizes.Length, f[StatCounter.Ipv6FragmentsCreated]);
        Assert.Equal(0, f[StatCounter.Ipv6FragmentationFailures]);
        Assert.Equal(sizes.Length, f[StatCounter.TxPackets]);
    }

    [Fact]
    public void EchoReplyFragments_IntoSecondStack_ItsReassemblerRebuildsTheReply()
    {
        StackFixture f = Ipv6Fixture.Create();
        List<byte[]> sent = [];
        foreach (byte[] fragment in EchoRequestFragments(3000, 0x1234))
            sent.AddRange(f.Exchange(fragment));
        Assert.Equal(3, sent.Count);

        // The host as a second stack: its raw ICMPv6 endpoint sees the packet its reassembler rebuilt.
        var host = new NetworkStack();
        var hostLink = new ChannelEndpoint(Packets.HostMac);
        Assert.Equal(StackError.None, host.CreateNic(StackFixture.Nic1, hostLink, "eth0"));
        Assert.Equal(StackError.None, host.AddAddress(StackFixture.Nic1, Packets6.HostIp, 64));
        using RawEndpoint raw = host.Raw.Open(IpProtocol.Icmpv6, maxPacket: 4096);
        // Out of order, as a network may deliver them.
        hostLink.InjectInbound(sent[2]);
        hostLink.InjectInbound(sent[0]);
        hostLink.InjectInbound(sent[1]);
        Nic hostNic = host.Nics[StackFixture.Nic1];
        Assert.Equal(1, hostNic.Stats[StatCounter.Ipv6PacketsReassembled]);
        Assert.Equal(0, hostNic.Stats[StatCounter.Ipv6MalformedFragmentsReceived]);
        Assert.Equal(1, hostNic.Stats[StatCounter.Icmpv6PacketsReceived]);
        Assert.Equal(0, hostNic.Stats[StatCounter.Icmpv6InvalidReceived]);

        byte[] buffer = new byte[4096];
        Assert.True(raw.TryReceive(buffer, out _, out int length));
        byte[] packet = buffer[..length];
        Assert.Equal(40 + 3008, packet.Length);
        Assert.Equal(58, packet[6]);
        Assert.Equal(ExpectedEchoReply(3000), packet[40..]);
        Assert.Equal(ReassembleIndependently(sent.Select(x => Parse(x)).ToList()), packet[40..]);
    }

    [Fact]
    public void EchoReply_ExactlyMtuAfterReassembly_SentWhole()
    {
        StackFixture f = Ipv6Fixture.Create();
        // 8 + 1452 octets of ICMPv6: a 1500-octet reply.
        List<byte[]> sent = [];
        foreach (byte[] fragment in EchoRequestFragments(1452, 0x55, chunk: 1000))
            sent.AddRange(f.Exchange(fragment));
        byte[] reply = Assert.Single(sent);
        Assert.Equal(14 + 1500, reply.Length);
        Assert.Equal(58, reply[20]);
        Assert.Equal(ExpectedEchoReply(1452), reply[54..]);
        Assert.Equal(0, f[StatCounter.Ipv6PacketsFragmented]);
        Assert.Equal(0, f[StatCounter.Ipv6FragmentsCreated]);
    }

    [Fact]
    public void EchoRequest_ArrivingWholeLargerThanMtu_ReplyFragmentedNotInPlace()
    {
        StackFixture f = Ipv6Fixture.Create();
        // A 1504-octet packet from a peer with a larger MTU; the link still hands it over.
        byte[] request = Packets6.EchoRequest(Packets6.HostIp, Packets6.StackIp, dataLength: 1456, id: EchoId, sequence: EchoSequence);
        List<byte[]> sent = f.Exchange(request);
        Assert.Equal(2, sent.Count);
        var fragments = sent.Select(x => Parse(x)).ToList();
        Assert.Equal([1448, 16], fragments.Select(x => x.Data.Length));
        Assert.Equal(ExpectedEchoReply(1456), ReassembleIndependently(fragments));
        Assert.Equal(1, f[StatCounter.Icmpv6EchoRepliesSent]);
    }

    [Fact]
    public void EchoReplies_Consecutive_DistinctIdentifications()
    {
        StackFixture f = Ipv6Fixture.Create();
        var identifications = new HashSet<uint>();
        for (uint i = 0; i < 50; i++)
        {
            List<byte[]> sent = [];
            foreach (byte[] fragment in EchoRequestFragments(3000, 0x9000 + i))
                sent.AddRange(f.Exchange(fragment));
            Assert.Equal(3, sent.Count);
            Assert.True(identifications.Add(Parse(sent[0]).Identification));
        }
    }

    [Fact]
    public void EchoReply_LinkRefusesFragment_CountedAsFragmentationFailure()
    {
        var stack = new NetworkStack();
        // Room for two frames only: the third fragment is refused.
        var link = new ChannelEndpoint(Packets.StackMac, outboundCapacity: 2);
        Assert.Equal(StackError.None, stack.CreateNic(StackFixture.Nic1, link, "eth0"));
        Assert.Equal(StackError.None, stack.AddAddress(StackFixture.Nic1, Packets6.StackIp, 64));
        link.Clear();
        foreach (byte[] fragment in EchoRequestFragments(3000, 0x77))
            link.InjectInbound(fragment);
        NicStats stats = stack.Nics[StackFixture.Nic1].Stats;
        Assert.Equal(2, link.ReadAll().Count);
        Assert.Equal(1, stats[StatCounter.Ipv6FragmentationFailures]);
        Assert.Equal(2, stats[StatCounter.Ipv6FragmentsCreated]);
        Assert.Equal(0, stats[StatCounter.Ipv6PacketsFragmented]);
        Assert.Equal(1, stats[StatCounter.Ipv6OutgoingPacketErrors]);
        Assert.Equal(0, stats[StatCounter.Icmpv6EchoRepliesSent]);
    }

    [Fact]
    public void UdpSend_4000OctetsOverIpv6_FragmentedAndIntact()
    {
        var u = new UdpFixture();
        u.F.Nic.Ipv6Neighbors.AddStatic(Packets6.HostIp, Packets.HostMac);
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, ep.Bind(Ipv6Address.Any, 5000));
        byte[] payload = Packets6.EchoBody(4000);
        Assert.Equal(StackError.None, ep.SendTo(payload, Packets6.HostIp, 9000));

        List<byte[]> sent = u.F.Link.ReadAll();
        Assert.Equal(3, sent.Count);
        var fragments = sent.Select(x => Parse(x)).ToList();
        Assert.Equal([1448, 1448, 1112], fragments.Select(x => x.Data.Length));
        Assert.All(fragments, x => Assert.Equal(17, x.NextHeader));
        Assert.All(sent, x => Assert.True(x.Length <= 14 + 1500));
        byte[] datagram = ReassembleIndependently(fragments);
        Assert.Equal(4008, datagram.Length);
        Assert.Equal(5000, BinaryPrimitives.ReadUInt16BigEndian(datagram));
        Assert.Equal(9000, BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(2)));
        Assert.Equal(4008, BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(4)));
        Assert.Equal(0, Packets6.Checksum6(Packets6.StackIp, Packets6.HostIp, 17, datagram));
        Assert.Equal(payload, datagram[8..]);
        Assert.Equal(1, u.F[StatCounter.UdpDatagramsSent]);
        Assert.Equal(1, u.F[StatCounter.Ipv6PacketsFragmented]);
        Assert.Equal(3, u.F[StatCounter.Ipv6FragmentsCreated]);

        // And a second stack's UDP endpoint receives the datagram whole.
        var host = new NetworkStack();
        var hostLink = new ChannelEndpoint(Packets.HostMac);
        Assert.Equal(StackError.None, host.CreateNic(StackFixture.Nic1, hostLink, "eth0"));
        Assert.Equal(StackError.None, host.AddAddress(StackFixture.Nic1, Packets6.HostIp, 64));
        UdpProtocol hostUdp = UdpProtocol.Install(host);
        using UdpEndpoint receiver = hostUdp.CreateEndpoint(maxDatagram: 8192);
        Assert.Equal(StackError.None, receiver.Bind(Ipv6Address.Any, 9000));
        foreach (byte[] frame in sent)
            hostLink.InjectInbound(frame);
        byte[] buffer = new byte[8192];
        Assert.True(receiver.TryReceive(buffer, out UdpDatagramInfo info, out int length));
        Assert.Equal(payload, buffer[..length]);
        Assert.Equal((IpAddress)Packets6.StackIp, info.RemoteAddress);
        Assert.Equal(5000, info.RemotePort);
    }

    [Theory]
    [InlineData(1452, 1)]
    [InlineData(1453, 2)]
    public void UdpSend_AroundMtu_FragmentedOnlyPastIt(int payloadLength, int frames)
    {
        var u = new UdpFixture();
        u.F.Nic.Ipv6Neighbors.AddStatic(Packets6.HostIp, Packets.HostMac);
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.None, ep.SendTo(new byte[payloadLength], Packets6.HostIp, 9000));
        List<byte[]> sent = u.F.Link.ReadAll();
        Assert.Equal(frames, sent.Count);
        if (frames == 1)
        {
            Assert.Equal(14 + 1500, sent[0].Length);
            Assert.Equal(17, sent[0][20]);
            Assert.Equal(0, u.F[StatCounter.Ipv6PacketsFragmented]);
        }
        else
        {
            // 8 + 1453 = 1461 octets of UDP: 1448 and then 13.
            Assert.Equal([1448, 13], sent.Select(x => Parse(x).Data.Length));
            Assert.Equal(1, u.F[StatCounter.Ipv6PacketsFragmented]);
        }
    }

    [Fact]
    public void UdpSend_PastIpv6PayloadLimit_MessageTooLong()
    {
        var u = new UdpFixture();
        u.F.Nic.Ipv6Neighbors.AddStatic(Packets6.HostIp, Packets.HostMac);
        using UdpEndpoint ep = u.Udp.CreateEndpoint();
        Assert.Equal(StackError.MessageTooLong, ep.SendTo(new byte[65535 - 8 + 1], Packets6.HostIp, 9000));
        Assert.Equal(StackError.None, ep.SendTo(new byte[65535 - 8], Packets6.HostIp, 9000));
        List<SentFragment> fragments = u.F.Link.ReadAll().Select(x => Parse(x)).ToList();
        Assert.Equal(46, fragments.Count);
        Assert.Equal(65535, ReassembleIndependently(fragments).Length);
    }

    [Fact]
    public void PortUnreachable_AboutReassembled3000OctetDatagram_1280OctetsUnfragmented()
    {
        var u = new UdpFixture();
        byte[] datagram = UdpFixture.Datagram(4000, 9999, Packets6.EchoBody(3000));
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(6), Packets6.Checksum6(Packets6.HostIp, Packets6.StackIp, 17, datagram));
        List<byte[]> sent = [];
        foreach (byte[] fragment in Cut(17, datagram, 0x4242, 1448))
            sent.AddRange(u.F.Exchange(fragment));
        byte[] error = Assert.Single(sent);
        Assert.Equal(14 + 1280, error.Length);
        Assert.Equal(58, error[20]);
        Assert.Equal(Icmpv6Type.DestinationUnreachable, Ipv6Fixture.TypeOf(error));
        Assert.True(Packets6.IcmpChecksumValid(error));
        Assert.Equal(0, u.F[StatCounter.Ipv6PacketsFragmented]);
    }

    [Fact]
    public void SendIpv6_HopByHopRoutingAndDestinationOptions_PerFragmentHeadersRepeated()
    {
        StackFixture f = Ipv6Fixture.Create();
        f.Nic.Ipv6Neighbors.AddStatic(Packets6.HostIp, Packets.HostMac);
        // Hop-by-Hop (PadN) -> Routing (type 4, no segments left) -> Destination Options (PadN) -> 2000 octets of "UDP".
        byte[] hopByHop = [43, 0, 1, 4, 0, 0, 0, 0];
        byte[] routing = [60, 0, 4, 0, 0, 0, 0, 0];
        byte[] destination = [17, 0, 1, 4, 0, 0, 0, 0];
        byte[] upper = Packets6.EchoBody(2000);
        byte[] original = Packets6.Ipv6(Packets6.StackIp, Packets6.HostIp, 0, [.. hopByHop, .. routing, .. destination, .. upper], to: Packets.HostMac, from: Packets.StackMac);
        Assert.Equal(StackError.None, f.Nic.SendIpv6((byte[])original.Clone(), Packets6.HostIp));

        List<byte[]> sent = f.Link.ReadAll();
        var fragments = sent.Select(x => Parse(x, perFragmentLength: 56)).ToList();
        // (1500 - 56 - 8) rounded down to 8.
        Assert.Equal([1432, 576], fragments.Select(x => x.Data.Length));
        foreach (byte[] frame in sent)
        {
            Assert.Equal(0, frame[20]);
            Assert.Equal(original.AsSpan(54, 8).ToArray(), frame[54..62]);
            // The Routing header now names the Fragment header; the rest of it is unchanged.
            Assert.Equal(44, frame[62]);
            Assert.Equal(original.AsSpan(63, 7).ToArray(), frame[63..70]);
        }
        Assert.All(fragments, x => Assert.Equal(60, x.NextHeader));
        Assert.Equal(original[70..], ReassembleIndependently(fragments));
    }

    [Fact]
    public void SendIpv6_AlreadyFragmentedPastMtu_NotCutAgain()
    {
        StackFixture f = Ipv6Fixture.Create();
        f.Nic.Ipv6Neighbors.AddStatic(Packets6.HostIp, Packets.HostMac);
        byte[] frame = Packets6.Fragment(Packets6.StackIp, Packets6.HostIp, 17, 0, true, 1, new byte[1600]);
        Assert.Equal(StackError.WouldBlock, f.Nic.SendIpv6(frame, Packets6.HostIp));
        Assert.Empty(f.Link.ReadAll());
        Assert.Equal(1, f[StatCounter.Ipv6FragmentationFailures]);
        Assert.Equal(1, f[StatCounter.Ipv6OutgoingPacketErrors]);
    }

    [Fact]
    public void ThousandFragmentedEchoReplies_AfterWarmUp_AllocateNothing()
    {
        StackFixture f = Ipv6Fixture.Create();
        List<byte[]> request = EchoRequestFragments(3000, 0x3131);
        f.AllocatedWhileInjecting(request, 10);
        long fragmentedBefore = f[StatCounter.Ipv6PacketsFragmented];
        long createdBefore = f[StatCounter.Ipv6FragmentsCreated];
        Assert.Equal(0, f.AllocatedWhileInjecting(request, 1000));
        Assert.Equal(1000, f[StatCounter.Ipv6PacketsFragmented] - fragmentedBefore);
        Assert.Equal(3000, f[StatCounter.Ipv6FragmentsCreated] - createdBefore);
    }

    [Fact]
    public void Identification_WorkersAndControlThreads_NeverRepeatForOnePair()
    {
        var ids = new Ipv6FragmentIdentification(workers: 3);
        var seen = new HashSet<uint>();
        for (int i = 0; i < 1000; i++)
        {
            foreach (int worker in new[] { 0, 1, 2, NicStats.ControlWorker })
                Assert.True(seen.Add(ids.Next(worker, Packets6.StackIp, Packets6.HostIp)));
        }
        // Another destination starts elsewhere in the space: its hash differs (the second value of
        // worker 0's lane is hash + 1 * 4 lanes).
        var fresh = new Ipv6FragmentIdentification(workers: 3);
        Assert.NotEqual(fresh.Next(0, Packets6.StackIp, Packets6.HostIp), fresh.Next(0, Packets6.StackIp, Ipv6Address.Parse("2001:2::3")) - 4);
    }
}
