using System.Buffers.Binary;
using CsCheck;
using XdpStack.Stack.Link;
using XdpStack.Stack.Network.Ipv4;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Network.Ipv4;

public class Ipv4ReceiveTests
{
    private static byte[] Ping(Ipv4Address source, Ipv4Address destination, byte ttl = 64, MacAddress? to = null)
    {
        byte[] frame = Packets.EchoRequest(source, destination, to: to);
        frame[22] = ttl;
        Refill(frame);
        return frame;
    }

    private static void Refill(byte[] frame)
    {
        Span<byte> ip = frame.AsSpan(14);
        int ihl = (ip[0] & 0xF) * 4;
        ip[10] = 0;
        ip[11] = 0;
        if (ihl >= 20 && ihl <= ip.Length)
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..ihl]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void PacketToUs_LowTtl_Accepted(byte ttl)
    {
        var f = new StackFixture();
        Assert.Single(f.Exchange(Ping(Packets.HostIp, Packets.StackIp, ttl)));
        Assert.Equal(1, f[StatCounter.Ipv4PacketsDelivered]);
    }

    [Fact]
    public void BadHeaderChecksum_Dropped()
    {
        var f = new StackFixture();
        byte[] frame = Ping(Packets.HostIp, Packets.StackIp);
        frame[24] ^= 0xFF;
        Assert.Empty(f.Exchange(frame));
        Assert.Equal(1, f[StatCounter.Ipv4MalformedPacketsReceived]);
    }

    [Fact]
    public void BadHeaderChecksum_WithRxChecksumOffload_NotChecked()
    {
        var f = new StackFixture(capabilities: LinkCapabilities.ResolutionRequired | LinkCapabilities.RxChecksumOffload);
        byte[] frame = Ping(Packets.HostIp, Packets.StackIp);
        frame[24] ^= 0xFF;
        Assert.Single(f.Exchange(frame));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    public void IhlBelowFive_Dropped(byte ihl)
    {
        var f = new StackFixture();
        byte[] frame = Ping(Packets.HostIp, Packets.StackIp);
        frame[14] = (byte)(0x40 | ihl);
        Refill(frame);
        Assert.Empty(f.Exchange(frame));
        Assert.Equal(1, f[StatCounter.Ipv4MalformedPacketsReceived]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    [InlineData(1000)]
    public void TotalLength_ZeroBelowHeaderOrAboveData_Dropped(ushort totalLength)
    {
        var f = new StackFixture();
        byte[] frame = Ping(Packets.HostIp, Packets.StackIp);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), totalLength);
        Refill(frame);
        Assert.Empty(f.Exchange(frame));
        Assert.Equal(1, f[StatCounter.Ipv4MalformedPacketsReceived]);
    }

    [Fact]
    public void WrongVersion_Dropped()
    {
        var f = new StackFixture();
        byte[] frame = Ping(Packets.HostIp, Packets.StackIp);
        frame[14] = 0x65;
        Refill(frame);
        Assert.Empty(f.Exchange(frame));
        Assert.Equal(1, f[StatCounter.Ipv4MalformedPacketsReceived]);
    }

    [Fact]
    public void EthernetPadding_IgnoredByTotalLength()
    {
        var f = new StackFixture();
        byte[] frame = Ping(Packets.HostIp, Packets.StackIp);
        byte[] padded = [.. frame, .. new byte[20]];
        byte[] reply = Assert.Single(f.Exchange(padded));
        Assert.Equal(frame.Length, reply.Length);
    }

    [Theory]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("198.18.0.255")]
    public void InvalidSource_BroadcastMulticastOrSubnetBroadcast_Dropped(string source)
    {
        var f = new StackFixture();
        Assert.Empty(f.Exchange(Ping(Ipv4Address.Parse(source), Packets.StackIp)));
        Assert.Equal(1, f[StatCounter.Ipv4InvalidSourceAddressesReceived]);
        Assert.Equal(0, f[StatCounter.Ipv4PacketsDelivered]);
    }

    [Theory]
    // As Linux (ip_route_input_slow, fib_validate_source), checked by pinging both with crafted sources.
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("198.18.0.2")]
    public void MartianSource_ZeroNetworkOrOurOwnAddress_Dropped(string source)
    {
        var f = new StackFixture();
        Assert.Empty(f.Exchange(Ping(Ipv4Address.Parse(source), Packets.StackIp)));
        Assert.Equal(1, f[StatCounter.Ipv4InvalidSourceAddressesReceived]);
        Assert.Equal(0, f[StatCounter.Ipv4PacketsDelivered]);
    }

    [Fact]
    public void LoopbackSource_OnNonLoopbackNic_DroppedAsMartian()
    {
        var f = new StackFixture();
        Assert.Empty(f.Exchange(Ping(Ipv4Address.Loopback, Packets.StackIp)));
        Assert.Equal(1, f[StatCounter.Ipv4InvalidSourceAddressesReceived]);
    }

    [Fact]
    public void LoopbackDestination_OnNonLoopbackNic_DroppedAsMartian()
    {
        var f = new StackFixture();
        f.Stack.AddAddress(StackFixture.Nic1, Ipv4Address.Loopback, 8);
        Assert.Empty(f.Exchange(Ping(Packets.HostIp, Ipv4Address.Loopback)));
        Assert.Equal(1, f[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
    }

    [Fact]
    public void LoopbackAddresses_OnLoopbackNic_Accepted()
    {
        var f = new StackFixture(addAddress: false, capabilities: LinkCapabilities.Loopback);
        f.Stack.AddAddress(StackFixture.Nic1, Ipv4Address.Loopback, 8);
        Assert.Single(f.Exchange(Ping(Ipv4Address.Parse("127.0.0.2"), Ipv4Address.Loopback)));
    }

    [Fact]
    public void NotForUs_ForwardingOff_InvalidDestination()
    {
        var f = new StackFixture();
        Assert.Empty(f.Exchange(Ping(Packets.HostIp, Ipv4Address.Parse("198.19.1.1"))));
        Assert.Equal(1, f[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
        Assert.Equal(0, f[StatCounter.Ipv4PacketsForwarded]);
    }

    [Fact]
    public void NotForUs_ForwardingOn_HandedToForwarder()
    {
        var f = new StackFixture();
        var forwarder = new CountingForwarder();
        f.Stack.Ipv4Forwarder = forwarder;
        f.Stack.SetForwarding(StackFixture.Nic1, EtherType.Ipv4, true, out _);
        f.Exchange(Ping(Packets.HostIp, Ipv4Address.Parse("198.19.1.1")));
        Assert.Equal(1, forwarder.Count);
        // Only the forwarder knows whether the packet went on, so it counts it; this one does not.
        Assert.Equal(0, f[StatCounter.Ipv4PacketsForwarded]);
        Assert.Equal(0, f[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
    }

    [Fact]
    public void LimitedBroadcast_DeliveredButEchoIgnored()
    {
        var f = new StackFixture();
        Assert.Empty(f.Exchange(Ping(Packets.HostIp, Ipv4Address.Broadcast, to: MacAddress.Broadcast)));
        Assert.Equal(1, f[StatCounter.Ipv4PacketsDelivered]);
        Assert.Equal(1, f[StatCounter.IcmpEchoRequestsReceived]);
        Assert.Equal(0, f[StatCounter.IcmpEchoRepliesSent]);
    }

    [Fact]
    public void SubnetBroadcast_Delivered()
    {
        var f = new StackFixture();
        f.Exchange(Ping(Packets.HostIp, Ipv4Address.Parse("198.18.0.255"), to: MacAddress.Broadcast));
        Assert.Equal(1, f[StatCounter.Ipv4PacketsDelivered]);
    }

    [Fact]
    public void JoinedMulticastGroup_Delivered_OtherGroupsNot()
    {
        var f = new StackFixture();
        var group = Ipv4Address.Parse("224.0.0.251");
        f.Stack.JoinGroup(StackFixture.Nic1, group);
        f.Exchange(Ping(Packets.HostIp, group, to: MacAddress.FromIpv4Multicast(group)));
        Assert.Equal(1, f[StatCounter.Ipv4PacketsDelivered]);
        f.Exchange(Ping(Packets.HostIp, Ipv4Address.Parse("224.0.0.252"), to: MacAddress.FromIpv4Multicast(group)));
        Assert.Equal(1, f[StatCounter.Ipv4PacketsDelivered]);
        Assert.Equal(1, f[StatCounter.Ipv4InvalidDestinationAddressesReceived]);
    }

    [Fact]
    public void OtherHostsMac_NotPromiscuous_Dropped()
    {
        var f = new StackFixture();
        Assert.Empty(f.Exchange(Ping(Packets.HostIp, Packets.StackIp, to: MacAddress.Parse("02:00:00:00:00:77"))));
        Assert.Equal(1, f[StatCounter.OtherHostFrames]);
    }

    [Fact]
    public void TruncatedFrames_CountedNeverThrown()
    {
        var f = new StackFixture();
        byte[] ping = Ping(Packets.HostIp, Packets.StackIp);
        for (int length = 0; length < ping.Length; length++)
            f.Exchange(ping[..length]);
        Assert.Equal(ping.Length, f[StatCounter.RxPackets]);
        Assert.Equal(14, f[StatCounter.MalformedLinkFrames]);
    }

    [Fact]
    public void RandomFrames_NeverThrow()
    {
        var f = new StackFixture();
        f.Stack.SetPromiscuous(StackFixture.Nic1, true);
        Gen.Int[0, 255].Select(i => (byte)i).Array[0, 200].Sample(bytes =>
        {
            if (bytes.Length >= 14)
            {
                // Steer most samples into IPv4 or ARP so the parsers, not the EtherType switch, see them.
                bytes[12] = (byte)(bytes.Length % 3 == 0 ? 0x08 : bytes[12]);
                bytes[13] = (byte)(bytes.Length % 2 == 0 ? 0x00 : 0x06);
            }
            f.Link.InjectInbound(bytes);
            f.Link.Clear();
        }, iter: 20000, threads: 1); // one stack, one worker slot: not for concurrent use
    }

    private sealed class CountingForwarder : IIpv4Forwarder
    {
        public int Count;

        public void Forward(Nic ingress, int worker, Span<byte> frame, ref Frame descriptor) => Count++;
    }
}
