using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv4;

// Echo requests with IP options, answered as Linux answers them (ip_options_compile on arrival, ip_options_echo and
// ip_options_build on the reply): checked against tcpdump of a Linux host answering `ping -R` and `ping -T tsandaddr`.
public class IcmpEchoOptionsTests
{
    // 13:14:15.678 UTC: 47,655,678 ms after midnight.
    private const uint Now = 47_655_678;
    private static readonly byte[] Host = [198, 18, 0, 1];
    private static readonly byte[] Stack = [198, 18, 0, 2];

    private static StackFixture Fixture() =>
        new(wallClock: new FixedWallClock(new DateTimeOffset(2026, 12, 7, 13, 14, 15, 678, TimeSpan.Zero)));

    // An echo request from the host with these options (a multiple of 4 octets) and 16 octets of data.
    private static byte[] Request(byte[] options)
    {
        byte[] rest = new byte[4 + 16];
        BinaryPrimitives.WriteUInt16BigEndian(rest, 0x1234);
        for (int i = 0; i < 16; i++)
            rest[4 + i] = (byte)i;
        byte[] frame = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 1, Packets.Icmp(8, 0, rest), ihl: 5 + (options.Length / 4));
        options.CopyTo(frame, 34);
        frame[24] = frame[25] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(24), Checksum.Compute(frame.AsSpan(14, 20 + options.Length)));
        return frame;
    }

    private static (byte[] Options, byte[] Icmp) Reply(StackFixture f, byte[] request)
    {
        byte[] reply = Assert.Single(f.Exchange(request));
        int ihl = (reply[14] & 0xf) * 4;
        Assert.Equal(0, Checksum.Compute(reply.AsSpan(14, ihl)));
        Assert.Equal(reply.Length - 14, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(16)));
        byte[] icmp = reply[(14 + ihl)..];
        Assert.Equal(0, icmp[0]);
        Assert.Equal(0, Checksum.Compute(icmp));
        Assert.Equal(request[^16..], icmp[^16..]);
        return (reply[34..(14 + ihl)], icmp);
    }

    [Fact]
    public void RecordRoute_OurAddressTwice_NopDropped_EndOfListPadding()
    {
        // ping -R: NOP, then RR of 39 octets with the sender's address in the first slot.
        byte[] rr = new byte[40];
        rr[0] = 1;
        rr[1] = 7;
        rr[2] = 39;
        rr[3] = 8;
        Host.CopyTo(rr, 4);
        (byte[] options, _) = Reply(Fixture(), Request(rr));
        byte[] expected = new byte[40];
        expected[0] = 7;
        expected[1] = 39;
        expected[2] = 16;
        Host.CopyTo(expected, 3);
        Stack.CopyTo(expected, 7);
        Stack.CopyTo(expected, 11);
        Assert.Equal(expected, options);
    }

    [Fact]
    public void RecordRoute_RoomForOne_RecordedOnArrivalOnly_Full_Unchanged()
    {
        byte[] one = [7, 11, 8, 198, 18, 0, 1, 0, 0, 0, 0, 0];
        (byte[] options, _) = Reply(Fixture(), Request(one));
        Assert.Equal(new byte[] { 7, 11, 12, 198, 18, 0, 1, 198, 18, 0, 2, 0 }, options);
        byte[] full = [7, 7, 8, 198, 18, 0, 1, 0];
        (options, _) = Reply(Fixture(), Request(full));
        Assert.Equal(full, options);
    }

    [Fact]
    public void TimestampWithAddresses_OurEntryTwice()
    {
        // ping -T tsandaddr: four entries, the sender's filled in.
        byte[] ts = new byte[36];
        ts[0] = 68;
        ts[1] = 36;
        ts[2] = 13;
        ts[3] = 1;
        Host.CopyTo(ts, 4);
        BinaryPrimitives.WriteUInt32BigEndian(ts.AsSpan(8), 1234);
        (byte[] options, _) = Reply(Fixture(), Request(ts));
        Assert.Equal(36, options.Length);
        Assert.Equal(new byte[] { 68, 36, 29, 1 }, options[..4]);
        Assert.Equal(ts[4..12], options[4..12]);
        for (int entry = 1; entry <= 2; entry++)
        {
            Assert.Equal(Stack, options[(4 + (entry * 8))..(8 + (entry * 8))]);
            Assert.Equal(Now, BinaryPrimitives.ReadUInt32BigEndian(options.AsSpan(8 + (entry * 8))));
        }
        Assert.Equal(new byte[8], options[28..36]);
    }

    [Fact]
    public void TimestampFull_OverflowCountedOnce()
    {
        byte[] ts = [68, 8, 9, 0x10, 0, 0, 0, 1];
        (byte[] options, _) = Reply(Fixture(), Request(ts));
        Assert.Equal(new byte[] { 68, 8, 9, 0x20, 0, 0, 0, 1 }, options);
    }

    [Fact]
    public void OtherOptions_LeftOut_HeaderShrinks()
    {
        // Router Alert (148, 4 octets) and a NOP-padded RR with room for one: the reply keeps the RR alone.
        byte[] request = Request([148, 4, 0, 0, 1, 7, 7, 4, 0, 0, 0, 0]);
        (byte[] options, _) = Reply(Fixture(), request);
        Assert.Equal(new byte[] { 7, 7, 8, 198, 18, 0, 2, 0 }, options);
        (options, _) = Reply(Fixture(), Request([148, 4, 0, 0]));
        Assert.Empty(options);
    }

    [Fact]
    public void MalformedOptionsInAPacketToUs_ParameterProblemAtTheBadOctet()
    {
        StackFixture f = Fixture();
        // RR whose pointer (3) is below the first slot.
        byte[] reply = Assert.Single(f.Exchange(Request([7, 7, 3, 0, 0, 0, 0, 0])));
        Assert.Equal((byte)Icmpv4Type.ParameterProblem, reply[34]);
        Assert.Equal(0, reply[35]);
        Assert.Equal(22, reply[38]);
        Assert.Equal(1, f[StatCounter.Ipv4OptionErrorsReceived]);
        Assert.Equal(0, f[StatCounter.IcmpEchoRepliesSent]);
    }

    [Fact]
    public void PrespecifiedTimestamps_PartOfAnEntryLeftAfterOurStamp_NoReplyAsLinux()
    {
        // Fourteen octets: our entry stamped on arrival leaves two, too few for ip_options_echo.
        var f = Fixture();
        byte[] request = Request([68, 14, 5, 3, .. Stack, 0, 0, 0, 0, 0, 0, 0, 0]);
        Assert.Empty(f.Exchange(request));
    }
}
