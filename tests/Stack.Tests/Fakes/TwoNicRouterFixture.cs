using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>What the IPv4 and IPv6 router fixtures share: a stack on a manual clock with two channel NICs, nic 1 and nic 2, and the UDP datagram their test packets carry.</summary>
/// <remarks>
/// The addresses, MACs and packet builders stay declared on each family's fixture, because tests
/// reach them through <c>using static</c>, which does not see members of a base class.
/// </remarks>
internal abstract class TwoNicRouterFixture
{
    private static readonly NicId First = new(1);
    private static readonly NicId Second = new(2);

    protected TwoNicRouterFixture(MacAddress mac1, MacAddress mac2, int mtu2)
    {
        Link1 = new ChannelEndpoint(mac1);
        Link2 = new ChannelEndpoint(mac2, mtu: mtu2);
    }

    public NetworkStack Stack { get; private set; } = null!;

    public ManualClock Clock { get; } = new();

    public ChannelEndpoint Link1 { get; }

    public ChannelEndpoint Link2 { get; }

    public Nic Router1 => Stack.Nics[First];

    public Nic Router2 => Stack.Nics[Second];

    /// <summary>Makes the stack with <paramref name="options"/> (whose clock must be <see cref="Clock"/>) and gives it nic 1 "eth1" on <see cref="Link1"/> and nic 2 "eth2" on <see cref="Link2"/>.</summary>
    protected void CreateStack(StackOptions options)
    {
        Assert.Same(Clock, options.Clock);
        Stack = new NetworkStack(options);
        Assert.Equal(StackError.None, Stack.CreateNic(First, Link1, "eth1"));
        Assert.Equal(StackError.None, Stack.CreateNic(Second, Link2, "eth2"));
    }

    /// <summary>A UDP datagram from port 12345 to port 53 with <paramref name="payloadLength"/> octets of patterned data behind the 8-octet header, checksum left 0.</summary>
    protected static byte[] UdpDatagram(int payloadLength)
    {
        byte[] udp = new byte[8 + payloadLength];
        udp[0] = 0x30;
        udp[1] = 0x39;
        udp[3] = 0x35;
        udp[4] = (byte)(udp.Length >> 8);
        udp[5] = (byte)udp.Length;
        for (int i = 8; i < udp.Length; i++)
            udp[i] = (byte)(i * 7);
        return udp;
    }
}
