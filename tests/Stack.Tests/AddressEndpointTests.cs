using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests;

public class AddressEndpointTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("198.18.0.10");

    [Fact]
    public void TryIncRef_AtZero_FailsAndStaysZero()
    {
        var f = new StackFixture();
        AddressEndpoint ep = f.Nic.FindEndpoint(Packets.StackIp)!;
        f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp);
        Assert.Equal(0, ep.ReferenceCount);
        Assert.False(ep.TryIncRef());
        Assert.False(ep.TryIncRef());
        Assert.Equal(0, ep.ReferenceCount);
    }

    [Fact]
    public void TryIncRef_Live_CountsUpAndDecRefCountsDown()
    {
        var f = new StackFixture();
        AddressEndpoint ep = f.Nic.FindEndpoint(Packets.StackIp)!;
        Assert.Equal(1, ep.ReferenceCount);
        Assert.True(ep.TryIncRef());
        Assert.True(ep.TryIncRef());
        Assert.Equal(3, ep.ReferenceCount);
        ep.DecRef();
        ep.DecRef();
        Assert.Equal(1, ep.ReferenceCount);
        Assert.True(f.Nic.HasAddress(Packets.StackIp));
    }

    [Fact]
    public void ZombieRemoval_AfterReAdd_LeavesSuccessorInPlace()
    {
        var f = new StackFixture();
        AddressEndpoint first = f.Nic.FindEndpoint(Packets.StackIp)!;
        f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp);
        f.Stack.AddAddress(StackFixture.Nic1, Packets.StackIp, 24);
        AddressEndpoint second = f.Nic.FindEndpoint(Packets.StackIp)!;
        Assert.NotSame(first, second);

        // The dead endpoint's removal runs late (as when it waited for the lock): identity check.
        f.Nic.RemoveEndpointIfCurrent(first);
        Assert.Same(second, f.Nic.FindEndpoint(Packets.StackIp));
        Assert.True(f.Nic.HasAddress(Packets.StackIp));
    }

    [Fact]
    public void DecRef_BelowZero_Throws()
    {
        var f = new StackFixture();
        f.Stack.SetSpoofing(StackFixture.Nic1, true);
        AddressEndpoint temporary = f.Nic.AcquireOutgoingEndpoint(A)!;
        temporary.DecRef();
        Assert.Throws<InvalidOperationException>(temporary.DecRef);
    }

    [Fact]
    public void TryIncRef_RacingLastDecRef_NeverRevivesARemovedEndpoint()
    {
        // Many rounds of: one thread drops the last reference while another tries to take one.
        // Either the taker wins (endpoint stays, with its reference) or it fails and the endpoint
        // is gone; never a live reference to an endpoint no longer in the NIC.
        var f = new StackFixture();
        f.Stack.SetSpoofing(StackFixture.Nic1, true);
        for (int round = 0; round < 2000; round++)
        {
            AddressEndpoint ep = f.Nic.AcquireOutgoingEndpoint(A)!;
            bool took = false;
            using var go = new Barrier(2);
            var taker = new Thread(() =>
            {
                go.SignalAndWait();
                took = ep.TryIncRef();
            });
            taker.Start();
            go.SignalAndWait();
            ep.DecRef();
            taker.Join();
            if (took)
            {
                Assert.Same(ep, f.Nic.FindEndpoint(A));
                ep.DecRef();
            }
            Assert.Null(f.Nic.FindEndpoint(A));
            Assert.Equal(0, ep.ReferenceCount);
        }
    }
}
