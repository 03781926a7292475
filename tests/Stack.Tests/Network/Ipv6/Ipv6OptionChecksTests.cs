using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv6;

// The option checks of Linux's ip6_parse_tlv beyond the action bits (checked on the wire against a Linux router,
// tools/linux-diff/probes/ipv6-forwarded-headers.txt): padding, and the Jumbo Payload option (RFC 2675).
public class Ipv6OptionChecksTests
{
    // An echo request to us behind an options header (next header `headerType`) of exactly these 6 option octets.
    private static byte[] EchoWithOptions(byte headerType, byte[] sixOctets)
    {
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 128, 0, 0x0001_0001, Packets6.EchoBody(8));
        byte[] payload = [58, 0, .. sixOctets, .. echo];
        return Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, headerType, payload);
    }

    [Theory]
    [InlineData(60, new byte[] { 1, 4, 0, 0, 0, 0 })]
    [InlineData(0, new byte[] { 0, 0, 1, 2, 0, 0 })]
    public void ZeroPadding_Accepted(byte headerType, byte[] options)
    {
        var f = Ipv6Fixture.Create();
        Assert.Equal(Icmpv6Type.EchoReply, Ipv6Fixture.TypeOf(Assert.Single(f.Exchange(EchoWithOptions(headerType, options)))));
    }

    [Theory]
    // PadN whose octets are not all zero (RFC 4942 §2.1.9.5).
    [InlineData(60, new byte[] { 1, 4, 0, 0, 0, 1 })]
    [InlineData(0, new byte[] { 1, 2, 1, 1, 1, 0 })]
    public void PadNWithData_DroppedSilently(byte headerType, byte[] options)
    {
        var f = Ipv6Fixture.Create();
        Assert.Empty(f.Exchange(EchoWithOptions(headerType, options)));
        Assert.Equal(1, f[StatCounter.Ipv6MalformedPacketsReceived]);
    }

    [Fact]
    public void MoreThanSevenOctetsOfPaddingInARow_DroppedSilently()
    {
        // Six octets of PadN here, then the two of a second 8-octet header's worth: a 14-octet header of padding.
        var f = Ipv6Fixture.Create();
        byte[] echo = Packets6.Icmpv6(Packets6.HostIp, Packets6.StackIp, 128, 0, 0x0001_0001, Packets6.EchoBody(8));
        byte[] payload = [58, 1, 1, 4, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, .. echo];
        Assert.Empty(f.Exchange(Packets6.Ipv6(Packets6.HostIp, Packets6.StackIp, 60, payload)));
        Assert.Equal(1, f[StatCounter.Ipv6MalformedPacketsReceived]);
    }

    [Theory]
    // A Jumbo Payload under 65536: Parameter Problem code 0 at its value.
    [InlineData(new byte[] { 0xC2, 4, 0, 0, 0xFF, 0xFF }, 44u)]
    // A real jumbo length in a packet whose fixed header has a payload length: at the option.
    [InlineData(new byte[] { 0xC2, 4, 0, 1, 0, 0 }, 42u)]
    public void JumboPayloadInHopByHop_ParameterProblemCode0(byte[] options, uint pointer)
    {
        var f = Ipv6Fixture.Create();
        byte[] error = Assert.Single(f.Exchange(EchoWithOptions(0, options)));
        Assert.Equal(Icmpv6Type.ParameterProblem, Ipv6Fixture.TypeOf(error));
        Assert.Equal(0, error[55]);
        Assert.Equal(pointer, BinaryPrimitives.ReadUInt32BigEndian(error.AsSpan(58)));
    }

    [Fact]
    public void JumboPayloadInDestinationOptions_AnUnknownOption_Code2()
    {
        var f = Ipv6Fixture.Create();
        byte[] error = Assert.Single(f.Exchange(EchoWithOptions(60, [0xC2, 4, 0, 1, 0, 0])));
        Assert.Equal(2, error[55]);
    }
}
