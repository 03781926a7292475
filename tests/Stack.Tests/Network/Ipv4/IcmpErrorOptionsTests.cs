using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Fakes.RouterFixture;

namespace XdpStack.Stack.Tests.Network.Ipv4;

// ICMP errors about packets that carry IPv4 options, as Linux sends them (checked against a Linux router on the wire,
// tools/linux-diff/probes/ipv4-option-errors.txt): the error's own header echoes Record Route and Timestamp with an
// entry for the arrival and one for the error's source (icmp_send's ip_options_echo), and the quote is the packet as
// ip_options_compile left it on arrival, its header checksum not summed again. No error where the echo would leave
// part of an entry.
public class IcmpErrorOptionsTests
{
    // 13:14:15.678 UTC.
    private const uint Now = ((13 * 3600) + (14 * 60) + 15) * 1000 + 678;

    private static RouterFixture Fixture() =>
        new(wallClock: new FixedWallClock(new DateTimeOffset(2026, 12, 7, 13, 14, 15, 678, TimeSpan.Zero)));

    private static byte[] Time(uint milliseconds)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, milliseconds);
        return bytes;
    }

    // The one error on link 1: its options, its ICMP message, and the quoted packet.
    private static (byte[] Options, byte[] Icmp, byte[] Quote) Error(RouterFixture f) => Parse(Assert.Single(f.Link1.ReadAll()));

    private static (byte[] Options, byte[] Icmp, byte[] Quote) Parse(byte[] error)
    {
        int headerLength = (error[14] & 0xF) * 4;
        Assert.Equal(error.Length - 14, BinaryPrimitives.ReadUInt16BigEndian(error.AsSpan(16)));
        Assert.Equal(0, Checksum.Compute(error.AsSpan(14, headerLength)));
        Assert.Equal(Ip1, Packets.IpSource(error));
        Assert.Equal(HostA, Packets.IpDestination(error));
        byte[] icmp = error[(14 + headerLength)..];
        Assert.Equal(0, Checksum.Compute(icmp));
        return (error[34..(14 + headerLength)], icmp, icmp[8..]);
    }

    // What the quote's header should be: the packet as sent with its options as arrival left them.
    private static byte[] QuotedHeader(byte[] sent, byte[] arrivedOptions)
    {
        byte[] header = sent[14..(34 + arrivedOptions.Length)];
        arrivedOptions.CopyTo(header, 20);
        return header;
    }

    [Fact]
    public void TimeExceeded_RecordRouteWithRoom_ArrivalAndErrorSourceEchoed_QuoteAsArrivalLeftIt()
    {
        RouterFixture f = Fixture();
        byte[] sent = FromAWithOptions(HostB, [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0], ttl: 1);
        f.Link1.InjectInbound(sent);
        Assert.Empty(f.Link2.ReadAll());
        (byte[] options, byte[] icmp, byte[] quote) = Error(f);
        Assert.Equal((byte)Icmpv4Type.TimeExceeded, icmp[0]);
        Assert.Equal([7, 11, 12, .. Bytes(Ip1), .. Bytes(Ip1), 0], options);
        byte[] arrived = [7, 11, 8, .. Bytes(Ip1), 0, 0, 0, 0, 0];
        // The checksum is the one the packet came with, as in Linux's quote.
        Assert.Equal(QuotedHeader(sent, arrived), quote[..32]);
        Assert.Equal(sent[46..54], quote[32..40]);
    }

    [Theory]
    // Room for one entry: taken on arrival, none left for the error's source.
    [InlineData(new byte[] { 7, 7, 4, 0, 0, 0, 0, 0 }, new byte[] { 7, 7, 8, 198, 18, 1, 1, 0 }, new byte[] { 7, 7, 8, 198, 18, 1, 1, 0 })]
    // Full: echoed as it came.
    [InlineData(new byte[] { 7, 7, 8, 1, 2, 3, 4, 0 }, new byte[] { 7, 7, 8, 1, 2, 3, 4, 0 }, new byte[] { 7, 7, 8, 1, 2, 3, 4, 0 })]
    // An option Linux does not echo, then Record Route: only the Record Route, and the header shrinks to it.
    [InlineData(new byte[] { 0x9e, 4, 0, 0, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
        new byte[] { 7, 11, 12, 198, 18, 1, 1, 198, 18, 1, 1, 0 },
        new byte[] { 0x9e, 4, 0, 0, 7, 11, 8, 198, 18, 1, 1, 0, 0, 0, 0, 0 })]
    // Junk after End of Option List is zeroed on arrival; nothing is echoed.
    [InlineData(new byte[] { 0, 7, 1, 1 }, new byte[0], new byte[] { 0, 0, 0, 0 })]
    public void TimeExceeded_Options_EchoedAndQuotedAsLinux(byte[] sentOptions, byte[] echoed, byte[] arrived)
    {
        RouterFixture f = Fixture();
        byte[] sent = FromAWithOptions(HostB, sentOptions, ttl: 1);
        f.Link1.InjectInbound(sent);
        (byte[] options, byte[] icmp, byte[] quote) = Error(f);
        Assert.Equal((byte)Icmpv4Type.TimeExceeded, icmp[0]);
        Assert.Equal(echoed, options);
        Assert.Equal(QuotedHeader(sent, arrived), quote[..(20 + arrived.Length)]);
    }

    [Fact]
    public void TimeExceeded_TimestampsOnly_StampedOnArrivalAndForTheError()
    {
        RouterFixture f = Fixture();
        byte[] sent = FromAWithOptions(HostB, [68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0], ttl: 1);
        f.Link1.InjectInbound(sent);
        (byte[] options, _, byte[] quote) = Error(f);
        Assert.Equal([68, 12, 13, 0, .. Time(Now), .. Time(Now)], options);
        Assert.Equal(QuotedHeader(sent, [68, 12, 9, 0, .. Time(Now), 0, 0, 0, 0]), quote[..32]);
    }

    [Fact]
    public void TimeExceeded_TimestampsWithAddresses_OurAddressBothTimes()
    {
        RouterFixture f = Fixture();
        byte[] sent = FromAWithOptions(HostB, [68, 20, 5, 1, .. new byte[16]], ttl: 1);
        f.Link1.InjectInbound(sent);
        (byte[] options, _, byte[] quote) = Error(f);
        Assert.Equal([68, 20, 21, 1, .. Bytes(Ip1), .. Time(Now), .. Bytes(Ip1), .. Time(Now)], options);
        Assert.Equal(QuotedHeader(sent, [68, 20, 13, 1, .. Bytes(Ip1), .. Time(Now), .. new byte[8]]), quote[..40]);
    }

    [Fact]
    public void TimeExceeded_PrespecifiedTimestamps_OnlyOurEntryStamped()
    {
        RouterFixture f = Fixture();
        byte[] sent = FromAWithOptions(HostB, [68, 20, 5, 3, .. Bytes(Ip1), 0, 0, 0, 0, .. Bytes(HostB), 0, 0, 0, 0], ttl: 1);
        f.Link1.InjectInbound(sent);
        (byte[] options, _, _) = Error(f);
        Assert.Equal([68, 20, 13, 3, .. Bytes(Ip1), .. Time(Now), .. Bytes(HostB), 0, 0, 0, 0], options);
    }

    [Theory]
    // Record Route of 9 octets: after our arrival entry, one octet short of another.
    [InlineData(new byte[] { 7, 9, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    // Prespecified timestamps of 14 octets: after our stamp, two octets left.
    [InlineData(new byte[] { 68, 14, 5, 3, 198, 18, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void TimeExceeded_EchoWouldLeavePartOfAnEntry_NoErrorAsLinux(byte[] sentOptions)
    {
        RouterFixture f = Fixture();
        f.Link1.InjectInbound(FromAWithOptions(HostB, sentOptions, ttl: 1));
        Assert.Empty(f.Link1.ReadAll());
        Assert.Empty(f.Link2.ReadAll());
        Assert.Equal(1, f.Router1.Stats[StatCounter.IcmpErrorsSuppressed]);
        Assert.Equal(0, f.Router1.Stats[StatCounter.IcmpTimeExceededSent]);
    }

    [Fact]
    public void FragmentationNeeded_RecordRoute_QuoteShortenedToKeepTheErrorAt576()
    {
        RouterFixture f = new(mtu2: 1280);
        byte[] sent = FromAWithOptions(HostB, [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0], payloadLength: 1400, flags: 0x4000);
        f.Link1.InjectInbound(sent);
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(14 + 576, error.Length);
        (byte[] options, byte[] icmp, byte[] quote) = Parse(error);
        Assert.Equal([7, 11, 12, .. Bytes(Ip1), .. Bytes(Ip1), 0], options);
        Assert.Equal(576 - 32, icmp.Length);
        Assert.Equal(QuotedHeader(sent, [7, 11, 8, .. Bytes(Ip1), 0, 0, 0, 0, 0]), quote[..32]);
        Assert.Equal(sent[46..(14 + 576 - 32 - 8)], quote[32..]);
    }

    [Fact]
    public void Unreachable_ToOurAddress_RecordRouteGetsThatAddressTwice()
    {
        RouterFixture f = Fixture();
        byte[] sent = FromAWithOptions(Ip1, [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        f.Link1.InjectInbound(sent);
        (byte[] options, byte[] icmp, byte[] quote) = Error(f);
        // The fixture's stack serves no UDP: Protocol Unreachable, where Linux would say Port Unreachable.
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, icmp[0]);
        Assert.Equal([7, 11, 12, .. Bytes(Ip1), .. Bytes(Ip1), 0], options);
        Assert.Equal(QuotedHeader(sent, [7, 11, 8, .. Bytes(Ip1), 0, 0, 0, 0, 0]), quote[..32]);
    }

    [Theory]
    // Record Route, then a Router Alert one octet short: the Record Route was taken in before Linux stopped.
    [InlineData(new byte[] { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 148, 3, 0, 0 }, 33,
        new byte[] { 7, 11, 12, 198, 18, 1, 1, 198, 18, 1, 1, 0 },
        new byte[] { 7, 11, 8, 198, 18, 1, 1, 0, 0, 0, 0, 1, 148, 3, 0, 0 })]
    // Record Route twice: the first is echoed, full after our arrival entry; the second is left as it came.
    [InlineData(new byte[] { 7, 7, 4, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0, 0 }, 27,
        new byte[] { 7, 7, 8, 198, 18, 1, 1, 0 },
        new byte[] { 7, 7, 8, 198, 18, 1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0 })]
    // The bad option first: nothing taken in, nothing echoed.
    [InlineData(new byte[] { 7, 7, 3, 0, 0, 0, 0, 0 }, 22, new byte[0], new byte[] { 7, 7, 3, 0, 0, 0, 0, 0 })]
    public void ParameterProblem_OptionsBeforeTheBadOneTakenIn(byte[] sentOptions, int pointer, byte[] echoed, byte[] arrived)
    {
        RouterFixture f = Fixture();
        byte[] sent = FromAWithOptions(Ip1, sentOptions);
        f.Link1.InjectInbound(sent);
        (byte[] options, byte[] icmp, byte[] quote) = Error(f);
        Assert.Equal((byte)Icmpv4Type.ParameterProblem, icmp[0]);
        Assert.Equal(pointer, icmp[4]);
        Assert.Equal(echoed, options);
        Assert.Equal(QuotedHeader(sent, arrived), quote[..(20 + arrived.Length)]);
    }

    [Fact]
    public void Forward_JunkAfterEndOfOptionList_ZeroedAsLinux()
    {
        RouterFixture f = Fixture();
        byte[] sent = FromAWithOptions(HostB, [7, 7, 4, 0, 0, 0, 0, 0, 9, 9, 9, 9]);
        f.Link1.InjectInbound(sent);
        byte[] forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal([7, 7, 8, .. Bytes(Ip2), 0, 0, 0, 0, 0], forwarded[34..46]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 32)));

        sent = FromAWithOptions(HostB, [0, 7, 1, 1]);
        f.Link1.InjectInbound(sent);
        forwarded = Assert.Single(f.Link2.ReadAll());
        Assert.Equal(new byte[4], forwarded[34..38]);
        Assert.Equal(0, Checksum.Compute(forwarded.AsSpan(14, 24)));
        Assert.Equal(sent[38..], forwarded[38..]);
    }
}
