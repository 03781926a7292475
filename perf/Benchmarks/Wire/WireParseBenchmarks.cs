using BenchmarkDotNet.Attributes;
using XdpStack.Stack.Wire;

namespace XdpStack.Benchmarks.Wire;

/// <summary>
/// Per-packet cost of the wire views on frames captured from Linux (tests/Stack.Tests/Wire/Data):
/// what the receive path pays to validate and read a frame, and what a router pays to rewrite one.
/// </summary>
[MemoryDiagnoser]
public class WireParseBenchmarks
{
    // tcp4-handshake.pcap frame 0: a SYN with MSS, SACK permitted, timestamps and window scale.
    private readonly byte[] _tcpSyn = Convert.FromHexString(
        "02000000000202000000000108004500003c77f04000400636a4c6120001c61200029c411f9085d84b5000000000a002fb90d3dc0000020405780402080af4826b26000000000103030a");

    // ipv6-extension-headers.pcap frame 0: UDP behind Hop-by-Hop and Destination Options headers.
    private readonly byte[] _udp6Ext = Convert.FromHexString(
        "02000000000202000000000186dd600a5cab0032001120010002000000000000000000000001200100020000000000000000000000023c0001040000000011011e060102030405060104000000009c420009001a8e1c786470737461636b20776972652075647036");

    // udp4.pcap frame 0: a UDP datagram, TTL 33.
    private readonly byte[] _udp4 = Convert.FromHexString(
        "02000000000202000000000108004510002ed48e40002111f8f8c6120001c61200029c400009001a4201786470737461636b20776972652075647034");

    /// <summary>Ethernet → IPv4 (checksum verified) → TCP view → TcpHeader with options parsed, TCP checksum verified.</summary>
    [Benchmark]
    public int TcpSyn_ParseAllLayers()
    {
        if (!EthernetFrame.TryCreate(_tcpSyn, out EthernetFrame ethernet, out _)
            || !Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip, out _)
            || !Ipv4Header.TryParse(ip, out Ipv4Header ipHeader)
            || !TcpPacket.TryCreate(ip.Payload, out TcpPacket tcp, out _)
            || !TcpHeader.TryParse(tcp, ipHeader.Source, ipHeader.Destination, out TcpHeader tcpHeader))
        {
            return -1;
        }
        return tcpHeader.MaxSegmentSize ?? 0;
    }

    /// <summary>Ethernet → IPv6 → extension-header walk → UDP view, UDP checksum verified.</summary>
    [Benchmark]
    public int Udp6_WalkExtensionHeaders()
    {
        if (!EthernetFrame.TryCreate(_udp6Ext, out EthernetFrame ethernet, out _)
            || !Ipv6Packet.TryCreate(ethernet.Payload, out Ipv6Packet ip, out _)
            || !Ipv6ExtensionHeaderReader.TryWalk(ip, out Ipv6ExtensionChain chain, out _)
            || !UdpPacket.TryCreate(ip.Buffer.Slice(chain.UpperLayerOffset, chain.UpperLayerLength), out UdpPacket udp, out _)
            || !udp.VerifyChecksum(ip.Source, ip.Destination))
        {
            return -1;
        }
        return udp.DestinationPort;
    }

    /// <summary>The router's rewrite: validate, verify the header checksum, decrement TTL (RFC 1624 update), rewrite both MACs.</summary>
    [Benchmark]
    public int Udp4_ForwardRewrite()
    {
        if (!EthernetFrame.TryCreate(_udp4, out EthernetFrame ethernet, out _)
            || !Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip, out _)
            || !ip.VerifyChecksum())
        {
            return -1;
        }
        // Refill the TTL once every 63 calls, so nearly every call measures only the rewrite.
        if (ip.TimeToLive <= 1)
        {
            ip.TimeToLive = 64;
            ip.FillChecksum();
        }
        int ttl = ip.DecrementTimeToLive();
        ethernet.Destination = MacAddress.Broadcast;
        ethernet.Source = MacAddress.Zero;
        return ttl;
    }
}
