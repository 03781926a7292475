using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network;

// An ICMP error about a packet to one of our addresses comes from that address, on whichever NIC it is, as Linux's
// icmp_send and icmp6_send take the packet's own destination once the route made it local (checked on the wire with
// tools/linux-diff: UDP to a closed port of the router's other address).
public class IcmpErrorSourceTests
{
    [Fact]
    public void Ipv4_PortUnreachableForTheOtherNicsAddress_ComesFromThatAddress()
    {
        var f = new RouterFixture();
        // Host A's UDP datagram (FromA builds UDP) to NIC 2's address, arriving on NIC 1: no port is open.
        f.Link1.InjectInbound(RouterFixture.FromA(RouterFixture.Ip2));
        byte[] error = Assert.Single(f.Link1.ReadAll());
        Assert.Equal(1, error[23]);
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, error[34]);
        Assert.Equal(RouterFixture.Ip2, Packets.IpSource(error));
        Assert.Equal(RouterFixture.HostA, Packets.IpDestination(error));
    }

    [Fact]
    public void Ipv6_ParameterProblemForTheOtherNicsAddress_ComesFromThatAddress()
    {
        var f = new Router6Fixture();
        // An unknown Next Header (253) to NIC 2's address, arriving on NIC 1.
        f.Link1.InjectInbound(Packets6.Ipv6(Router6Fixture.HostA, Router6Fixture.Ip2, 253, new byte[8], to: Router6Fixture.Mac1, from: Router6Fixture.HostAMac));
        byte[] error = Assert.Single(f.Link1.ReadAll(), frame => frame[20] == 58 && frame[54] == (byte)Icmpv6Type.ParameterProblem);
        Assert.Equal(Router6Fixture.Ip2, Packets6.Source(error));
        Assert.Equal(Router6Fixture.HostA, Packets6.Destination(error));
    }
}
