using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests;

public class NicAddressTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("198.18.0.10");
    private static readonly Ipv4Address B = Ipv4Address.Parse("198.18.0.11");
    private static readonly Ipv4Address C = Ipv4Address.Parse("198.18.0.12");

    [Fact]
    public void AddAddress_PermanentTwice_DuplicateAddress()
    {
        var f = new StackFixture();
        Assert.Equal(StackError.DuplicateAddress, f.Stack.AddAddress(StackFixture.Nic1, Packets.StackIp, 24));
        Assert.Equal(StackError.DuplicateAddress, f.Stack.AddAddress(StackFixture.Nic1, Packets.StackIp, 16));
    }

    [Fact]
    public void AcquireTemporary_WhereAddressIsPermanent_ReusesPermanentNotDuplicate()
    {
        var f = new StackFixture();
        f.Stack.SetSpoofing(StackFixture.Nic1, true);
        AddressEndpoint permanent = f.Nic.FindEndpoint(Packets.StackIp)!;
        AddressEndpoint? held = f.Nic.AcquireOutgoingEndpoint(Packets.StackIp);
        Assert.Same(permanent, held);
        Assert.Equal(AddressKind.Permanent, held!.Kind);
        held.DecRef();
    }

    [Fact]
    public void AddAddress_OverExpiredHeldByRoute_PromotesWithNewBehavior()
    {
        var f = new StackFixture(addAddress: false);
        f.Stack.AddAddress(StackFixture.Nic1, A, 24, PrimaryEndpointBehavior.CanBePrimary);
        f.Stack.AddAddress(StackFixture.Nic1, B, 24, PrimaryEndpointBehavior.CanBePrimary);
        AddressEndpoint held = f.Nic.AcquireOutgoingEndpoint(B)!;
        Assert.Equal(StackError.None, f.Stack.RemoveAddress(StackFixture.Nic1, B));
        Assert.Equal(AddressKind.PermanentExpired, held.Kind);

        Assert.Equal(StackError.None, f.Stack.AddAddress(StackFixture.Nic1, B, 24, PrimaryEndpointBehavior.FirstPrimary));
        Assert.Same(held, f.Nic.FindEndpoint(B));
        Assert.Equal(AddressKind.Permanent, held.Kind);
        Assert.Equal(PrimaryEndpointBehavior.FirstPrimary, held.Behavior);
        Assert.Equal(B, f.Nic.MainAddress(EtherType.Ipv4)!.Value.Address.V4);
        held.DecRef();
        // The permanent bias is back: dropping the route's reference leaves the address in place.
        Assert.True(f.Nic.HasAddress(B));
        Assert.Equal(1, held.ReferenceCount);
    }

    [Fact]
    public void AddAddress_OverTemporary_PromotesToPermanent()
    {
        var f = new StackFixture();
        f.Stack.SetSpoofing(StackFixture.Nic1, true);
        AddressEndpoint temporary = f.Nic.AcquireOutgoingEndpoint(A)!;
        Assert.Equal(AddressKind.Temporary, temporary.Kind);
        Assert.False(f.Nic.HasAddress(A));

        Assert.Equal(StackError.None, f.Stack.AddAddress(StackFixture.Nic1, A, 24, PrimaryEndpointBehavior.NeverPrimary));
        Assert.Same(temporary, f.Nic.FindEndpoint(A));
        Assert.Equal(AddressKind.Permanent, temporary.Kind);
        Assert.Equal(PrimaryEndpointBehavior.NeverPrimary, temporary.Behavior);
        Assert.DoesNotContain(f.Nic.PrimaryAddresses(), p => p.Address == A);
        temporary.DecRef();
        Assert.True(f.Nic.HasAddress(A));
    }

    [Fact]
    public void PrimaryBehavior_FirstInsertsFrontCanAppendsNeverSkips_MainIsFirstPermanent()
    {
        var f = new StackFixture(addAddress: false);
        Assert.Null(f.Nic.MainAddress(EtherType.Ipv4));
        f.Stack.AddAddress(StackFixture.Nic1, A, 24, PrimaryEndpointBehavior.NeverPrimary);
        Assert.Null(f.Nic.MainAddress(EtherType.Ipv4));
        f.Stack.AddAddress(StackFixture.Nic1, B, 24, PrimaryEndpointBehavior.CanBePrimary);
        Assert.Equal(B, f.Nic.MainAddress(EtherType.Ipv4)!.Value.Address.V4);
        f.Stack.AddAddress(StackFixture.Nic1, C, 24, PrimaryEndpointBehavior.FirstPrimary);
        Assert.Equal(C, f.Nic.MainAddress(EtherType.Ipv4)!.Value.Address.V4);
        Assert.Equal([new IpAddress(C), new IpAddress(B)], f.Nic.PrimaryAddresses().Select(p => p.Address));
        f.Stack.GetMainAddress(StackFixture.Nic1, EtherType.Ipv4, out AddressWithPrefix? main);
        Assert.Equal(new AddressWithPrefix(C, 24), main);
    }

    [Fact]
    public void PrimaryAddresses_Ipv4BeforeIpv6()
    {
        var f = new StackFixture(addAddress: false);
        var v6 = Ipv6Address.Parse("2001:2::2");
        f.Stack.AddAddress(StackFixture.Nic1, v6, 64);
        f.Stack.AddAddress(StackFixture.Nic1, A, 24);
        Assert.Equal([new IpAddress(A), new IpAddress(v6)], f.Nic.PrimaryAddresses().Select(p => p.Address));
        Assert.Equal(v6, f.Nic.MainAddress(EtherType.Ipv6)!.Value.Address.V6);
    }

    [Fact]
    public void RemoveAddress_UnknownOrTwice_BadLocalAddress()
    {
        var f = new StackFixture();
        Assert.Equal(StackError.BadLocalAddress, f.Stack.RemoveAddress(StackFixture.Nic1, A));
        Assert.Equal(StackError.None, f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp));
        Assert.Equal(StackError.BadLocalAddress, f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp));
        Assert.Null(f.Nic.FindEndpoint(Packets.StackIp));
    }

    [Fact]
    public void RemoveAddress_HeldByRoute_StaysExpiredUntilReleased()
    {
        var f = new StackFixture();
        AddressEndpoint held = f.Nic.AcquireOutgoingEndpoint(Packets.StackIp)!;
        f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp);
        Assert.Same(held, f.Nic.FindEndpoint(Packets.StackIp));
        Assert.DoesNotContain(f.Nic.AllAddresses(), a => a.Address == Packets.StackIp);
        Assert.False(held.IsValidForOutgoing);
        held.DecRef();
        Assert.Null(f.Nic.FindEndpoint(Packets.StackIp));
        Assert.True(held.IsDead);
    }

    [Fact]
    public void ExpiredAddress_SendsOnlyWhenSpoofing()
    {
        var f = new StackFixture();
        AddressEndpoint held = f.Nic.AcquireOutgoingEndpoint(Packets.StackIp)!;
        f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp);
        Assert.False(held.IsValidForOutgoing);
        Assert.Null(f.Nic.AcquireOutgoingEndpoint(Packets.StackIp));
        f.Stack.SetSpoofing(StackFixture.Nic1, true);
        Assert.True(held.IsValidForOutgoing);
        f.Stack.SetSpoofing(StackFixture.Nic1, false);
        f.Stack.AddAddress(StackFixture.Nic1, Packets.StackIp, 24);
        Assert.True(held.IsValidForOutgoing);
        held.DecRef();
    }

    [Fact]
    public void ExpiredAddress_ReceivesOnlyWhenPromiscuous_ReAddRestores()
    {
        var f = new StackFixture();
        AddressEndpoint held = f.Nic.AcquireOutgoingEndpoint(Packets.StackIp)!;
        byte[] ping = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        Assert.Single(f.Exchange(ping));

        f.Stack.RemoveAddress(StackFixture.Nic1, Packets.StackIp);
        Assert.Empty(f.Exchange(ping));
        Assert.Equal(1, f[StatCounter.Ipv4InvalidDestinationAddressesReceived]);

        f.Stack.SetPromiscuous(StackFixture.Nic1, true);
        Assert.Single(f.Exchange(ping));
        f.Stack.SetPromiscuous(StackFixture.Nic1, false);

        f.Stack.AddAddress(StackFixture.Nic1, Packets.StackIp, 24);
        f.Link.Clear();
        Assert.Single(f.Exchange(ping));
        held.DecRef();
    }

    [Fact]
    public void Promiscuous_PacketToUnownedAddress_DeliveredOnlyWhileOn()
    {
        var f = new StackFixture();
        byte[] ping = Packets.EchoRequest(Packets.HostIp, A);
        Assert.Empty(f.Exchange(ping));
        f.Stack.SetPromiscuous(StackFixture.Nic1, true);
        byte[] reply = Assert.Single(f.Exchange(ping));
        Assert.Equal(A, Packets.IpSource(reply));
        // Delivery made no endpoint, so the address is still not usable as a source.
        Assert.Null(f.Nic.FindEndpoint(A));
        Assert.Null(f.Nic.AcquireOutgoingEndpoint(A));
        f.Stack.SetPromiscuous(StackFixture.Nic1, false);
        Assert.Empty(f.Exchange(ping));
    }

    [Fact]
    public void Spoofing_AcquireUnownedAddress_OnlyWhenOn()
    {
        var f = new StackFixture();
        Assert.Null(f.Nic.AcquireOutgoingEndpoint(A));
        f.Stack.SetSpoofing(StackFixture.Nic1, true);
        AddressEndpoint temporary = f.Nic.AcquireOutgoingEndpoint(A)!;
        Assert.Equal(AddressKind.Temporary, temporary.Kind);
        temporary.DecRef();
        Assert.Null(f.Nic.FindEndpoint(A));
    }

    [Fact]
    public void NetworkReceive_EachOwnedAddressAnswers_OthersDropped()
    {
        var f = new StackFixture(addAddress: false);
        f.Stack.AddAddress(StackFixture.Nic1, A, 24);
        f.Stack.AddAddress(StackFixture.Nic1, B, 24);
        f.Link.Clear();
        Assert.Equal(A, Packets.IpSource(Assert.Single(f.Exchange(Packets.EchoRequest(Packets.HostIp, A)))));
        Assert.Equal(B, Packets.IpSource(Assert.Single(f.Exchange(Packets.EchoRequest(Packets.HostIp, B)))));
        Assert.Empty(f.Exchange(Packets.EchoRequest(Packets.HostIp, C)));
        Assert.Equal(1, f[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
        // Undersized: an Ethernet header and half an IPv4 header.
        Assert.Empty(f.Exchange(Packets.EchoRequest(Packets.HostIp, A)[..24]));
        Assert.Equal(1, f[StatCounter.Ipv4MalformedPacketsReceived]);
    }

    [Fact]
    public void Subnet_Added_AcceptsDestinationsInsideAndListsThem()
    {
        var f = new StackFixture();
        var subnet = Ipv4Prefix.Parse("198.19.0.0/24");
        byte[] ping = Packets.EchoRequest(Packets.HostIp, Ipv4Address.Parse("198.19.0.77"));
        Assert.Empty(f.Exchange(ping));
        f.Stack.AddSubnet(StackFixture.Nic1, subnet);
        Assert.Single(f.Exchange(ping));
        Assert.True(f.Nic.ContainsSubnet(subnet));
        Assert.Contains(new Ipv4Prefix(Packets.StackIp, 32), f.Nic.Subnets());
        Assert.Equal(StackError.None, f.Stack.RemoveSubnet(StackFixture.Nic1, subnet));
        Assert.Empty(f.Exchange(ping));
        Assert.False(f.Nic.ContainsSubnet(subnet));
    }

    [Fact]
    public void AddAddress_Ipv4_SendsGratuitousArp()
    {
        var f = new StackFixture();
        f.Stack.AddAddress(StackFixture.Nic1, A, 24);
        byte[] garp = Assert.Single(f.Link.ReadAll());
        Assert.Equal(0x0806, Packets.EtherTypeOf(garp));
        Assert.True(MacAddress.Read(garp).IsBroadcast);
        Assert.Equal(A, Ipv4Address.Read(garp.AsSpan(28))); // sender protocol address
        Assert.Equal(A, Ipv4Address.Read(garp.AsSpan(38))); // target protocol address
    }
}
