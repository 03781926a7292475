using System.Buffers.Binary;
using XdpStack.Appliance.Punt;
using XdpStack.Stack;
using XdpStack.Stack.Link;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Tests.Punt;

/// <summary>What the kernel twin sends goes out, except its answers for addresses the appliance answers itself.</summary>
public sealed class InjectFilterTests
{
    private static readonly MacAddress Ours = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly MacAddress Peer = MacAddress.Parse("02:00:00:00:00:02");

    private static AddressSnapshot Addresses()
    {
        var stack = new NetworkStack(new StackOptions { Workers = 1 });
        Assert.Equal(StackError.None, stack.CreateNic(new NicId(1), new ChannelEndpoint(Ours), "eth1"));
        Assert.Equal(StackError.None, stack.AddAddress(new NicId(1), IpAddress.Parse("198.18.1.1"), 24));
        Assert.Equal(StackError.None, stack.AddAddress(new NicId(1), IpAddress.Parse("2001:2:0:1::1"), 64));
        return stack.Nics[new NicId(1)].Addresses;
    }

    [Theory]
    [InlineData(2, "198.18.1.1", false)]    // the kernel's reply for our address: the appliance answered already
    [InlineData(1, "198.18.1.1", true)]     // the kernel's request (its own resolution): goes out
    [InlineData(2, "198.18.1.77", true)]    // a reply for an address only the kernel has
    public void ShouldSend_Arp(int operation, string sender, bool expected)
    {
        byte[] frame = new byte[42];
        Peer.CopyTo(frame);
        Ours.CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        new byte[] { 0, 1, 8, 0, 6, 4, 0, (byte)operation }.CopyTo(frame, 14);
        Ours.CopyTo(frame.AsSpan(22));
        Ipv4Address.Parse(sender).CopyTo(frame.AsSpan(28));

        Assert.Equal(expected, InjectFilter.ShouldSend(frame, Addresses()));
    }

    [Theory]
    [InlineData(136, "2001:2:0:1::1", false)]   // NA for our address
    [InlineData(136, "fe80::1", true)]          // NA for the kernel's own link-local address
    [InlineData(135, "2001:2:0:1::2", true)]    // the kernel's NS
    [InlineData(128, "2001:2:0:1::1", true)]    // anything else ICMPv6
    public void ShouldSend_Ndp(byte type, string target, bool expected)
    {
        byte[] frame = new byte[14 + 40 + 24];
        Peer.CopyTo(frame);
        Ours.CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x86DD);
        frame[14] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(18), 24);
        frame[20] = 58;
        frame[21] = 255;
        frame[54] = type;
        Ipv6Address.Parse(target).CopyTo(frame.AsSpan(62));

        Assert.Equal(expected, InjectFilter.ShouldSend(frame, Addresses()));
    }

    [Fact]
    public void ShouldSend_Ipv4Tcp_AndNotARunt()
    {
        byte[] tcp = new byte[14 + 20 + 20];
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(12), 0x0800);
        Assert.True(InjectFilter.ShouldSend(tcp, Addresses()));
        Assert.False(InjectFilter.ShouldSend(new byte[10], Addresses()));
    }
}
