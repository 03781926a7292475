using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv6;

public class Ipv6ReassemblyTests
{
    // An echo request of 8 + 1192 octets cut into fragments of 400 octets.
    private static List<byte[]> EchoFragments(uint identification, int dataLength = 1192, int chunk = 400)
    {
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 128, 0, 0x0007_0001, Packets6.EchoBody(dataLength));
        var fragments = new List<byte[]>();
        for (int offset = 0; offset < echo.Length; offset += chunk)
        {
            int length = Math.Min(chunk, echo.Length - offset);
            bool more = offset + length < echo.Length;
            fragments.Add(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 58, offset, more, identification, echo.AsSpan(offset, length)));
        }
        return fragments;
    }

    [Fact]
    public void Fragments_OutOfOrder_ReassembledAndEchoAnswered()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x1111);
        Assert.Empty(f.Exchange(fragments[2]));
        Assert.Empty(f.Exchange(fragments[0]));
        byte[] reply = Assert.Single(f.Exchange(fragments[1]));
        Assert.Equal(14 + 40 + 1200, reply.Length);
        Assert.Equal(Icmpv6Type.EchoReply, Ipv6Fixture.TypeOf(reply));
        Assert.Equal(Packets6.EchoBody(1192), reply[62..]);
        Assert.True(Packets6.IcmpChecksumValid(reply));
        Assert.Equal(1, f[StatCounter.Ipv6PacketsReassembled]);
        Assert.Equal(3, f[StatCounter.Ipv6FragmentsReceived]);
    }

    [Fact]
    public void Fragments_Duplicate_IgnoredAndStillReassembled()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x2222);
        f.Exchange(fragments[0]);
        f.Exchange(fragments[0]);
        f.Exchange(fragments[1]);
        Assert.Single(f.Exchange(fragments[2]));
    }

    [Fact]
    public void Fragments_Overlapping_WholeDatagramDropped()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x3333);
        byte[] echo = new byte[400];
        byte[] overlap = Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 58, 200, true, 0x3333, echo);
        f.Exchange(fragments[0]);
        f.Exchange(overlap);
        f.Exchange(fragments[1]);
        Assert.Empty(f.Exchange(fragments[2]));
        Assert.Equal(1, f[StatCounter.Ipv6MalformedFragmentsReceived]);
        Assert.Equal(0, f[StatCounter.Ipv6PacketsReassembled]);
    }

    // Linux's inet_frag_queue_insert (checked on the wire): a fragment inside a run already held is a duplicate.
    [Fact]
    public void Fragment_InsideAnInOrderRun_DuplicateIgnored()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x3434);
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 128, 0, 0x0007_0001, Packets6.EchoBody(1192));
        byte[] inside = Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 58, 200, true, 0x3434, echo.AsSpan(200, 400));
        Assert.Empty(f.Exchange(fragments[0]));
        Assert.Empty(f.Exchange(fragments[1]));
        Assert.Empty(f.Exchange(inside));
        Assert.Single(f.Exchange(fragments[2]));
    }

    [Fact]
    public void Fragment_ZeroLengthWithMoreToCome_DatagramDropped()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x3535);
        Assert.Empty(f.Exchange(fragments[0]));
        Assert.Empty(f.Exchange(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 58, 400, true, 0x3535, [])));
        Assert.Empty(f.Exchange(fragments[1]));
        Assert.Empty(f.Exchange(fragments[2]));
        Assert.Equal(0, f[StatCounter.Ipv6PacketsReassembled]);
    }

    [Fact]
    public void FirstFragment_DestinationOptionsBeforeTheEcho_Reassembled()
    {
        // The fragmentable part starts right after the fragment header: here an 8-octet Destination Options header.
        var f = Ipv6Fixture.Create();
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 128, 0, 0x0007_0001, Packets6.EchoBody(192));
        byte[] fragmentable = [58, 0, 1, 4, 0, 0, 0, 0, .. echo];
        Assert.Empty(f.Exchange(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 60, 0, true, 0x3636, fragmentable.AsSpan(0, 104))));
        byte[] reply = Assert.Single(f.Exchange(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 60, 104, false, 0x3636, fragmentable.AsSpan(104))));
        Assert.Equal(Icmpv6Type.EchoReply, Ipv6Fixture.TypeOf(reply));
        Assert.Equal(Packets6.EchoBody(192), reply[62..]);
    }

    [Fact]
    public void FirstFragment_WithoutTheUpperLayerHeader_ParameterProblemCode3AtOctet0()
    {
        // RFC 7112: the first fragment ends after a Destination Options header, before the ICMPv6 header.
        var f = Ipv6Fixture.Create();
        byte[] first = Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 60, 0, true, 0x3737, [58, 0, 1, 4, 0, 0, 0, 0]);
        byte[] error = Assert.Single(f.Exchange(first));
        Assert.Equal(Icmpv6Type.ParameterProblem, Ipv6Fixture.TypeOf(error));
        Assert.Equal(3, error[55]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
        Assert.Equal(1, f[StatCounter.Ipv6MalformedFragmentsReceived]);
    }

    [Fact]
    public void FirstFragment_UdpHeaderCut_ParameterProblemCode3()
    {
        var f = Ipv6Fixture.Create();
        byte[] first = Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 17, 0, true, 0x3838, [0, 1, 0, 2, 0, 0]);
        // Six octets with more to come is also not a multiple of 8; RFC 7112's check comes first, as in Linux.
        byte[] error = Assert.Single(f.Exchange(first));
        Assert.Equal(3, error[55]);
    }

    [Fact]
    public void Fragment_PastLimitAndNotAMultipleOf8_PointsAtTheOffsetAsLinux()
    {
        var f = Ipv6Fixture.Create();
        byte[] error = Assert.Single(f.Exchange(Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 58, 65528, true, 0x3939, new byte[12])));
        Assert.Equal(0, error[55]);
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
    }

    [Fact]
    public void Fragment_MoreSetLengthNotMultipleOf8_ParameterProblemAtPayloadLength()
    {
        var f = Ipv6Fixture.Create();
        // Starts like an echo request: an error about an ICMPv6 error would be suppressed.
        byte[] data = new byte[100];
        data[0] = 128;
        byte[] fragment = Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 58, 0, true, 0x4444, data);
        byte[] error = Assert.Single(f.Exchange(fragment));
        Assert.Equal(Icmpv6Type.ParameterProblem, Ipv6Fixture.TypeOf(error));
        Assert.Equal(0, error[55]);
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
    }

    [Fact]
    public void Fragment_EndingPast65535_ParameterProblemAtFragmentOffset()
    {
        var f = Ipv6Fixture.Create();
        byte[] fragment = Packets6.Fragment(Packets6.HostIp, Packets6.StackIp, 58, 65528, false, 0x5555, new byte[16]);
        byte[] error = Assert.Single(f.Exchange(fragment));
        Assert.Equal(Icmpv6Type.ParameterProblem, Ipv6Fixture.TypeOf(error));
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
    }

    [Fact]
    public void Timeout_FirstFragmentArrived_TimeExceededCode1QuotingIt()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x6666);
        f.Exchange(fragments[0]);
        f.Clock.Advance(TimeSpan.FromSeconds(61));
        f.Nic.ExpireIpv6Fragments(0);
        byte[] error = Assert.Single(f.Link.ReadAll());
        Assert.Equal(Icmpv6Type.TimeExceeded, Ipv6Fixture.TypeOf(error));
        Assert.Equal(1, error[55]);
        Assert.Equal(Packets6.HostIp, Packets6.Destination(error));
        Assert.Equal(fragments[0][14..], error[62..]);
        Assert.True(Packets6.IcmpChecksumValid(error));
        Assert.Equal(1, f[StatCounter.Ipv6ReassemblyTimeouts]);
    }

    [Fact]
    public void Timeout_FirstFragmentArrived_TheWorkersTimerPollSendsTimeExceeded()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x6667);
        f.Exchange(fragments[0]);
        f.Clock.Advance(TimeSpan.FromSeconds(61));
        f.Stack.PollTimers(0);
        byte[] error = Assert.Single(f.Link.ReadAll());
        Assert.Equal(Icmpv6Type.TimeExceeded, Ipv6Fixture.TypeOf(error));
        Assert.Equal(1, error[55]);
        Assert.Equal(1, f[StatCounter.Ipv6ReassemblyTimeouts]);
        // Errors carry their flow's automatic label, as Linux's icmp6_send.
        Assert.Equal(XdpStack.Stack.Network.Ipv6.Ipv6FlowLabel.For(Packets6.StackIp, Packets6.HostIp, IpProtocol.Icmpv6),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(14)) & 0xFFFFF);
    }

    [Fact]
    public void Timeout_FirstFragmentMissing_NoErrorButCounted()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x7777);
        f.Exchange(fragments[1]);
        f.Clock.Advance(TimeSpan.FromSeconds(61));
        // A later fragment of another datagram reclaims the expired one on the way.
        f.Exchange(EchoFragments(0x7778)[1]);
        Assert.Empty(f.Link.ReadAll());
        Assert.Equal(1, f[StatCounter.Ipv6ReassemblyTimeouts]);
    }

    [Fact]
    public void MemoryLimit_Reached_FragmentsDropped()
    {
        var clock = new ManualClock();
        var stack = new NetworkStack(new StackOptions { Clock = clock, ReassemblyMemoryLimit = 1000 });
        var link = new XdpStack.Stack.Link.ChannelEndpoint(Packets.StackMac);
        stack.CreateNic(StackFixture.Nic1, link);
        stack.AddAddress(StackFixture.Nic1, Packets6.StackIp, 64);
        for (uint id = 1; id <= 4; id++)
            link.InjectInbound(EchoFragments(id)[0]);
        Assert.Equal(2, stack.Nics[StackFixture.Nic1].Stats[StatCounter.Ipv6ReassemblyMemoryDrops]);
    }

    [Fact]
    public void Timeout_FullSizeFirstFragment_TimeExceededQuotes1232Octets()
    {
        var f = Ipv6Fixture.Create();
        // 1448 data octets: a 1510-octet frame, the most a 1500 MTU carries with a fragment header.
        List<byte[]> fragments = EchoFragments(0x8888, dataLength: 3000, chunk: 1448);
        Assert.Equal(1510, fragments[0].Length);
        f.Exchange(fragments[0]);
        f.Clock.Advance(TimeSpan.FromSeconds(61));
        f.Nic.ExpireIpv6Fragments(0);
        byte[] error = Assert.Single(f.Link.ReadAll());
        Assert.Equal(Icmpv6Type.TimeExceeded, Ipv6Fixture.TypeOf(error));
        Assert.Equal(14 + 1280, error.Length);
        Assert.Equal(fragments[0].AsSpan(14, 1232).ToArray(), error[62..]);
        Assert.True(Packets6.IcmpChecksumValid(error));
    }

    [Fact]
    public void ThousandReassemblies_AfterWarmUp_AllocateNothing()
    {
        var f = Ipv6Fixture.Create();
        List<byte[]> fragments = EchoFragments(0x7777);
        f.AllocatedWhileInjecting(fragments, 10);
        long reassembledBefore = f[StatCounter.Ipv6PacketsReassembled];
        Assert.Equal(0, f.AllocatedWhileInjecting(fragments, 1000));
        Assert.Equal(1000, f[StatCounter.Ipv6PacketsReassembled] - reassembledBefore);
    }
}
