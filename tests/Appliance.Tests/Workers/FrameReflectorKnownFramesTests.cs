using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Tests.Workers;

/// <summary>
/// Known frames and their reflections, both written out byte by byte, so the expectation owes
/// nothing to the reflector or to the project's checksum code.
/// </summary>
/// <remarks>
/// The frames were laid out by hand and checked with <c>tcpdump -vvv</c>, which decoded each
/// input and each expected reflection as intended and reported every IPv4 header, UDP and TCP
/// checksum correct (reflection moves bytes, so the checksum fields themselves stay as they were).
/// Host 02:00:5e:10:00:01, 198.18.0.1, 2001:2::1; reflector 02:00:5e:10:00:02, 198.18.0.2, 2001:2::2.
/// </remarks>
public sealed class FrameReflectorKnownFramesTests
{
    private const string HostMac = "02005e100001 ", ReflectorMac = "02005e100002 ";
    private const string HostV6 = "20010002000000000000000000000001 ", ReflectorV6 = "20010002000000000000000000000002 ";

    public static TheoryData<string, string, string> L3Frames => new()
    {
        {
            "IPv4 UDP 198.18.0.1:40000 > 198.18.0.2:9, DF, 8 bytes 'xdpstack'",
            ReflectorMac + HostMac + "0800 " +
            "4500 0024 1c46 4000 4011 925b c6120001 c6120002 " +
            "9c40 0009 0010 16b8 786470737461636b",
            HostMac + ReflectorMac + "0800 " +
            "4500 0024 1c46 4000 4011 925b c6120002 c6120001 " +
            "0009 9c40 0010 16b8 786470737461636b"
        },
        {
            "IPv6 TCP SYN [2001:2::1]:40001 > [2001:2::2]:9, flow label 0x12345, MSS option",
            ReflectorMac + HostMac + "86dd " +
            "60012345 0018 06 40 " + HostV6 + ReflectorV6 +
            "9c41 0009 01020304 00000000 6002 fd20 bac0 0000 020405a0",
            HostMac + ReflectorMac + "86dd " +
            "60012345 0018 06 40 " + ReflectorV6 + HostV6 +
            "0009 9c41 01020304 00000000 6002 fd20 bac0 0000 020405a0"
        },
        {
            "802.1Q VLAN 100, IPv4 TCP PSH/ACK 198.18.0.1:40002 > 198.18.0.2:80, 2 bytes 'hi'",
            ReflectorMac + HostMac + "8100 0064 0800 " +
            "4500 002a 0b0b 4000 4006 a39b c6120001 c6120002 " +
            "9c42 0050 000003e8 000007d0 5018 01f6 10f9 0000 6869",
            HostMac + ReflectorMac + "8100 0064 0800 " +
            "4500 002a 0b0b 4000 4006 a39b c6120002 c6120001 " +
            "0050 9c42 000003e8 000007d0 5018 01f6 10f9 0000 6869"
        },
        {
            "802.1ad VLAN 200 + 802.1Q VLAN 100, IPv6 UDP [2001:2::1]:40003 > [2001:2::2]:7, 2 bytes",
            ReflectorMac + HostMac + "88a8 00c8 8100 0064 86dd " +
            "60000000 000a 11 40 " + HostV6 + ReflectorV6 +
            "9c43 0007 000a 2386 0001",
            HostMac + ReflectorMac + "88a8 00c8 8100 0064 86dd " +
            "60000000 000a 11 40 " + ReflectorV6 + HostV6 +
            "0007 9c43 000a 2386 0001"
        },
        {
            "ARP request who-has 198.18.0.2 tell 198.18.0.1, broadcast: only the MACs move",
            "ffffffffffff " + HostMac + "0806 " +
            "0001 0800 06 04 0001 " + HostMac + "c6120001 000000000000 c6120002",
            HostMac + "ffffffffffff " + "0806 " +
            "0001 0800 06 04 0001 " + HostMac + "c6120001 000000000000 c6120002"
        },
        {
            "IPv4 cut after 16 header bytes: no room for the destination, only the MACs move",
            ReflectorMac + HostMac + "0800 " +
            "4500 0024 1c46 4000 4011 925b c6120001",
            HostMac + ReflectorMac + "0800 " +
            "4500 0024 1c46 4000 4011 925b c6120001"
        },
        {
            "IPv6 UDP cut after 3 transport bytes: addresses move, the half-present ports do not",
            ReflectorMac + HostMac + "86dd " +
            "60000000 000a 11 40 " + HostV6 + ReflectorV6 +
            "9c43 00",
            HostMac + ReflectorMac + "86dd " +
            "60000000 000a 11 40 " + ReflectorV6 + HostV6 +
            "9c43 00"
        },
    };

    [Theory]
    [MemberData(nameof(L3Frames))]
    public void Reflect_L3KnownFrame_GivesTheHandWrittenBytes(string frame, string input, string expected)
    {
        byte[] bytes = Hex(input);

        Assert.True(FrameReflector.Reflect(bytes, SwapMode.L3), frame);

        Assert.Equal(Hex(expected), bytes);
    }

    [Fact]
    public void Reflect_L2KnownIpv4Udp_MovesOnlyTheMacs()
    {
        byte[] bytes = Hex(ReflectorMac + HostMac + "0800 " +
            "4500 0024 1c46 4000 4011 925b c6120001 c6120002 " +
            "9c40 0009 0010 16b8 786470737461636b");

        Assert.True(FrameReflector.Reflect(bytes, SwapMode.L2));

        Assert.Equal(Hex(HostMac + ReflectorMac + "0800 " +
            "4500 0024 1c46 4000 4011 925b c6120001 c6120002 " +
            "9c40 0009 0010 16b8 786470737461636b"), bytes);
    }

    [Fact]
    public void Reflect_ThirteenByteFrame_IsRefusedAndLeftAlone()
    {
        byte[] bytes = Hex(ReflectorMac + HostMac + "08");

        Assert.False(FrameReflector.Reflect(bytes, SwapMode.L3));

        Assert.Equal(Hex(ReflectorMac + HostMac + "08"), bytes);
    }

    private static byte[] Hex(string spaced) => Convert.FromHexString(spaced.Replace(" ", "", StringComparison.Ordinal));
}
