using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire.Capture;

/// <summary>Peels a captured frame layer by layer, asserting that each view accepts it.</summary>
internal static class Layers
{
    public static EthernetFrame Ethernet(byte[] frame)
    {
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out WireError error), error.ToString());
        Assert.Equal(WireError.None, error);
        return ethernet;
    }

    public static Ipv4Packet Ipv4(byte[] frame)
    {
        EthernetFrame ethernet = Ethernet(frame);
        Assert.Equal(EtherType.Ipv4, ethernet.EtherType);
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip, out WireError error), error.ToString());
        Assert.True(ip.VerifyChecksum());
        return ip;
    }

    public static Ipv6Packet Ipv6(byte[] frame)
    {
        EthernetFrame ethernet = Ethernet(frame);
        Assert.Equal(EtherType.Ipv6, ethernet.EtherType);
        Assert.True(Ipv6Packet.TryCreate(ethernet.Payload, out Ipv6Packet ip, out WireError error), error.ToString());
        return ip;
    }

    public static ArpPacket Arp(byte[] frame)
    {
        EthernetFrame ethernet = Ethernet(frame);
        Assert.Equal(EtherType.Arp, ethernet.EtherType);
        Assert.True(ArpPacket.TryCreate(ethernet.Payload, out ArpPacket arp, out WireError error), error.ToString());
        return arp;
    }

    public static Icmpv4Packet Icmpv4(byte[] frame)
    {
        Ipv4Packet ip = Ipv4(frame);
        Assert.Equal(IpProtocol.Icmp, ip.Protocol);
        Assert.True(Icmpv4Packet.TryCreate(ip.Payload, out Icmpv4Packet icmp, out WireError error), error.ToString());
        Assert.True(icmp.VerifyChecksum());
        return icmp;
    }

    public static UdpPacket Udp4(byte[] frame)
    {
        Ipv4Packet ip = Ipv4(frame);
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.True(UdpPacket.TryCreate(ip.Payload, out UdpPacket udp, out WireError error), error.ToString());
        Assert.True(udp.VerifyChecksum(ip.Source, ip.Destination));
        return udp;
    }

    public static TcpPacket Tcp4(byte[] frame)
    {
        Ipv4Packet ip = Ipv4(frame);
        Assert.Equal(IpProtocol.Tcp, ip.Protocol);
        Assert.True(TcpPacket.TryCreate(ip.Payload, out TcpPacket tcp, out WireError error), error.ToString());
        Assert.True(tcp.VerifyChecksum(ip.Source, ip.Destination));
        return tcp;
    }

    /// <summary>The upper-layer part of an IPv6 packet, after walking its extension headers.</summary>
    public static Span<byte> Ipv6UpperLayer(byte[] frame, out Ipv6Packet ip, out Ipv6ExtensionChain chain)
    {
        ip = Ipv6(frame);
        Assert.True(Ipv6ExtensionHeaderReader.TryWalk(ip, out chain, out WireError error), error.ToString());
        return ip.Buffer.Slice(chain.UpperLayerOffset, chain.UpperLayerLength);
    }

    public static Icmpv6Packet Icmpv6(byte[] frame, out Ipv6Packet ip)
    {
        Span<byte> upper = Ipv6UpperLayer(frame, out ip, out Ipv6ExtensionChain chain);
        Assert.Equal(IpProtocol.Icmpv6, chain.UpperLayerProtocol);
        Assert.True(Icmpv6Packet.TryCreate(upper, out Icmpv6Packet icmp, out WireError error), error.ToString());
        return icmp;
    }
}
