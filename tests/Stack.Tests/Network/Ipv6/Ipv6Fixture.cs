using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv6;

/// <summary>Builds a <see cref="StackFixture"/> that owns 2001:2::2/64 and has no IPv4 address.</summary>
internal static class Ipv6Fixture
{
    public static StackFixture Create(int workers = 1, int mtu = 1500)
    {
        var f = new StackFixture(workers, addAddress: false, mtu: mtu);
        Assert.Equal(StackError.None, f.Stack.AddAddress(StackFixture.Nic1, Packets6.StackIp, 64));
        f.Link.Clear();
        return f;
    }

    public static Icmpv6Type TypeOf(byte[] frame) => (Icmpv6Type)frame[54];
}
