using XdpStack.Stack.Link;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests;

public class NetworkStackTests
{
    private static ChannelEndpoint NewLink() => new(Packets.StackMac);

    [Fact]
    public void CreateNic_DuplicateId_DuplicateNicId()
    {
        var stack = new NetworkStack();
        Assert.Equal(StackError.None, stack.CreateNic(new NicId(1), NewLink(), "a"));
        Assert.Equal(StackError.DuplicateNicId, stack.CreateNic(new NicId(1), NewLink(), "b"));
    }

    [Fact]
    public void CreateNic_DuplicateName_DuplicateNicName()
    {
        var stack = new NetworkStack();
        Assert.Equal(StackError.None, stack.CreateNic(new NicId(1), NewLink(), "a"));
        Assert.Equal(StackError.DuplicateNicName, stack.CreateNic(new NicId(2), NewLink(), "a"));
        Assert.False(stack.TryGetNic(new NicId(2), out _));
    }

    [Fact]
    public void NicOperations_UnknownId_UnknownNicId()
    {
        var stack = new NetworkStack();
        var unknown = new NicId(7);
        Assert.Equal(StackError.UnknownNicId, stack.EnableNic(unknown));
        Assert.Equal(StackError.UnknownNicId, stack.DisableNic(unknown));
        Assert.Equal(StackError.UnknownNicId, stack.RemoveNic(unknown));
        Assert.Equal(StackError.UnknownNicId, stack.AddAddress(unknown, Packets.StackIp, 24));
        Assert.Equal(StackError.UnknownNicId, stack.RemoveAddress(unknown, Packets.StackIp));
        Assert.Equal(StackError.UnknownNicId, stack.SetForwarding(unknown, EtherType.Ipv4, true, out _));
        Assert.Equal(StackError.UnknownNicId, stack.JoinGroup(unknown, Ipv4Address.Parse("224.0.0.251")));
    }

    [Fact]
    public void CreateNic_ThenFindByName_ReturnsIt()
    {
        var stack = new NetworkStack();
        stack.CreateNic(new NicId(3), NewLink(), "uplink");
        Assert.Equal(new NicId(3), stack.FindNic("uplink")!.Id);
        Assert.Null(stack.FindNic("downlink"));
    }

    [Fact]
    public void DisabledNic_Receive_CountsDisabledRxAndDeliversNothing()
    {
        var f = new StackFixture();
        f.Stack.DisableNic(StackFixture.Nic1);
        byte[] ping = Packets.EchoRequest(Packets.HostIp, Packets.StackIp);
        Assert.Empty(f.Exchange(ping));
        Assert.Equal(1, f[StatCounter.DisabledRxPackets]);
        Assert.Equal(ping.Length, f[StatCounter.DisabledRxBytes]);
        Assert.Equal(0, f[StatCounter.RxPackets]);
        Assert.Equal(0, f[StatCounter.IcmpEchoRequestsReceived]);

        f.Stack.EnableNic(StackFixture.Nic1);
        f.Link.Clear();
        Assert.Single(f.Exchange(ping));
    }

    [Fact]
    public void UnknownNetworkProtocol_Receive_CountedPerEtherType()
    {
        var f = new StackFixture();
        byte[] frame = new byte[60];
        Packets.StackMac.CopyTo(frame);
        Packets.HostMac.CopyTo(frame.AsSpan(6));
        frame[12] = 0x88;
        frame[13] = 0xB5; // IEEE 802 local experimental EtherType
        f.Exchange(frame);
        f.Exchange(frame);
        Assert.Equal(2, f[StatCounter.UnknownNetworkProtocolPackets]);
        Assert.Equal(2, f.Nic.Stats.UnknownNetworkProtocols()[0x88B5]);
    }

    [Fact]
    public void UnknownTransportProtocol_Receive_CountedPerProtocolAndProtocolUnreachableSent()
    {
        var f = new StackFixture();
        byte[] packet = Packets.Ipv4(Packets.HostIp, Packets.StackIp, 253, new byte[12]);
        List<byte[]> sent = f.Exchange(packet);
        Assert.Equal(1, f[StatCounter.UnknownTransportProtocolPackets]);
        Assert.Equal(1, f.Nic.Stats.UnknownTransportProtocol(253));
        Assert.Equal(0, f.Nic.Stats.UnknownTransportProtocol(17));
        byte[] error = Assert.Single(sent);
        Assert.Equal(3, error[34]); // Destination Unreachable
        Assert.Equal(2, error[35]); // Protocol Unreachable
    }

    [Fact]
    public void EnableNic_AddsLimitedBroadcast_DisableRemovesIt()
    {
        var stack = new NetworkStack();
        var link = NewLink();
        stack.CreateNic(new NicId(1), link, enabled: false);
        Nic nic = stack.Nics[new NicId(1)];
        Assert.Null(nic.FindEndpoint(Ipv4Address.Broadcast));

        stack.EnableNic(nic.Id);
        AddressEndpoint broadcast = nic.FindEndpoint(Ipv4Address.Broadcast)!;
        Assert.Equal(AddressKind.Permanent, broadcast.Kind);
        Assert.Equal(PrimaryEndpointBehavior.NeverPrimary, broadcast.Behavior);
        Assert.DoesNotContain(nic.PrimaryAddresses(), a => a.Address == Ipv4Address.Broadcast);

        stack.DisableNic(nic.Id);
        Assert.Null(nic.FindEndpoint(Ipv4Address.Broadcast));
    }

    [Fact]
    public void JoinGroup_CountedJoins_LeaveOnlyAfterLastLeave()
    {
        var f = new StackFixture();
        var group = Ipv4Address.Parse("224.0.0.251");
        Assert.Equal(StackError.None, f.Stack.JoinGroup(StackFixture.Nic1, group));
        Assert.Equal(StackError.None, f.Stack.JoinGroup(StackFixture.Nic1, group));
        Assert.True(f.Nic.IsInGroup(group));
        Assert.Equal(StackError.None, f.Stack.LeaveGroup(StackFixture.Nic1, group));
        Assert.True(f.Nic.IsInGroup(group));
        Assert.Equal(StackError.None, f.Stack.LeaveGroup(StackFixture.Nic1, group));
        Assert.False(f.Nic.IsInGroup(group));
        Assert.Equal(StackError.BadLocalAddress, f.Stack.LeaveGroup(StackFixture.Nic1, group));
    }

    [Fact]
    public void DisableNic_LeavesGroups_EnableRejoins()
    {
        var f = new StackFixture();
        var group = Ipv4Address.Parse("224.0.0.251");
        f.Stack.JoinGroup(StackFixture.Nic1, group);
        f.Stack.DisableNic(StackFixture.Nic1);
        Assert.False(f.Nic.IsInGroup(group));
        f.Stack.EnableNic(StackFixture.Nic1);
        Assert.True(f.Nic.IsInGroup(group));
    }

    [Fact]
    public void JoinGroup_NonMulticast_BadAddress()
    {
        var f = new StackFixture();
        Assert.Equal(StackError.BadAddress, f.Stack.JoinGroup(StackFixture.Nic1, Packets.HostIp));
    }

    [Fact]
    public void SetForwarding_ReturnsPreviousValue_Idempotent()
    {
        var f = new StackFixture();
        Assert.Equal(StackError.None, f.Stack.SetForwarding(StackFixture.Nic1, EtherType.Ipv4, true, out bool previous));
        Assert.False(previous);
        f.Stack.SetForwarding(StackFixture.Nic1, EtherType.Ipv4, true, out previous);
        Assert.True(previous);
        f.Stack.SetForwarding(StackFixture.Nic1, EtherType.Ipv4, false, out previous);
        Assert.True(previous);
        f.Stack.SetForwarding(StackFixture.Nic1, EtherType.Ipv4, false, out previous);
        Assert.False(previous);
        // Per protocol: IPv6 forwarding was never turned on.
        f.Stack.IsForwarding(StackFixture.Nic1, EtherType.Ipv6, out bool v6);
        Assert.False(v6);
    }
}
