using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Wire;

/// <summary>
/// Checksums of real packets that Linux built, captured in a lab namespace, verified through every
/// summing path.
/// </summary>
/// <remarks>
/// Captured on 2026-11-25 (Linux 6.18) with a throwaway program over XdpStack.Lab: a NetworkLab
/// with namespaces a and b joined by a veth, 198.18.0.1/24 and 2001:2::1/64 on a's end,
/// 198.18.0.2/24 and 2001:2::2/64 on b's, and `ethtool -K VETH tx off` on both ends so the kernel
/// writes final checksums instead of leaving them to an offload. Then, in namespace a:
/// <code>
/// tcpdump -s 0 -i VETH_A -U -w cap.pcap &amp;
/// ping -c 1 -s 31 198.18.0.2                                  # ICMP echo request/reply
/// python3: socket(AF_INET, SOCK_DGRAM).sendto(b"xdpstack checksum!!", ("198.18.0.2", 4000))
///          create_connection(("198.18.0.2", 5001)).send(b"hello")   # python listener in b
///          socket(AF_INET6, SOCK_DGRAM).sendto(b"odd length 6", ("2001:2::2", 4000))
/// ping -6 -c 1 -s 17 2001:2::2
/// </code>
/// The hex strings are the IP packets from that capture with the Ethernet header removed.
/// </remarks>
public sealed class ChecksumCapturedPacketTests
{
    public static TheoryData<string, string> Ipv4Packets => new()
    {
        { "ICMP echo request, 31 bytes of data", "4500003bc99440004001e505c6120001c61200020800f79a2cea0001804c076b000000008d20060000000000101112131415161718191a1b1c1d1e" },
        { "ICMP echo reply", "4500003b191400004001d586c6120002c61200010000ff9a2cea0001804c076b000000008d20060000000000101112131415161718191a1b1c1d1e" },
        { "UDP, 19 bytes of data", "4500002fa3f7400040110a9fc6120001c612000297980fa0001b1de8786470737461636b20636865636b73756d2121" },
        { "ICMP port unreachable quoting the UDP datagram", "45c0004b197d00004001d44dc6120002c612000103038951000000004500002fa3f7400040110a9fc6120001c612000297980fa0001b1de8786470737461636b20636865636b73756d2121" },
        { "TCP SYN with options", "4500003c1db94000400690dbc6120001c6120002bea413897129464600000000a002faf042e30000020405b40402080afc0bf857000000000103030a" },
        { "TCP SYN-ACK", "4500003c000040004006ae94c6120002c61200011389bea4b4a6a78d71294647a012fe881fa30000020405b40402080ae5e4dd7dfc0bf8570103030a" },
        { "TCP PSH-ACK, 5 bytes of data", "450000391dbb4000400690dcc6120001c6120002bea4138971294647b4a6a78e8018003f08dd00000101080afc0bf857e5e4dd7d68656c6c6f" },
    };

    public static TheoryData<string, string> Ipv6Packets => new()
    {
        { "UDP, 12 bytes of data", "6008d223001411402001000200000000000000000000000120010002000000000000000000000002b0a00fa00014bc8c6f6464206c656e6774682036" },
        { "ICMPv6 echo request, 17 bytes of data", "600fab6f00193a40200100020000000000000000000000012001000200000000000000000000000280002a3a2d3f0001814c076b000000004d7102000000000010" },
        { "ICMPv6 port unreachable quoting the UDP datagram", "6001a80e00443a40200100020000000000000000000000022001000200000000000000000000000101047b19000000006008d223001411402001000200000000000000000000000120010002000000000000000000000002b0a00fa00014bc8c6f6464206c656e6774682036" },
    };

    private delegate uint SumPath(ReadOnlySpan<byte> data, uint initial);

    private static readonly SumPath[] s_paths =
        [Checksum.Sum, Checksum.SumScalar, Checksum.SumVector128, Checksum.SumVector256, Checksum.SumVector512];

    private const byte Icmp = 1, Tcp = 6, Udp = 17, IcmpV6 = 58;

    [Theory]
    [MemberData(nameof(Ipv4Packets))]
    public void Sum_CapturedIpv4Packet_HeaderAndTransportChecksumsVerify(string what, string hex)
    {
        byte[] packet = Convert.FromHexString(hex);
        Assert.True(Ipv4ChecksumsVerify(packet), what);
        // Recomputing each checksum over the packet with the field zeroed gives the stored value.
        int headerLength = (packet[0] & 0xF) * 4;
        Assert.Equal(Stored(packet, 10), Checksum.Compute(WithZero(packet, 10)[..headerLength]));
    }

    [Theory]
    [MemberData(nameof(Ipv6Packets))]
    public void Sum_CapturedIpv6Packet_TransportChecksumVerifies(string what, string hex)
    {
        byte[] packet = Convert.FromHexString(hex);
        Assert.True(Ipv6ChecksumVerifies(packet), what);
    }

    [Theory]
    [MemberData(nameof(Ipv4Packets))]
    public void Sum_CapturedIpv4PacketWithOneBitFlipped_FailsToVerify(string what, string hex)
    {
        // Proves the checks above can fail: any single-bit error is caught by a one's-complement sum.
        byte[] packet = Convert.FromHexString(hex);
        for (int bit = 0; bit < packet.Length * 8; bit += 13)
        {
            byte[] damaged = (byte[])packet.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            // Bits in the length, IHL or protocol fields make the packet unparseable instead.
            if (bit / 8 is 0 or 2 or 3 or 9)
                continue;
            Assert.False(Ipv4ChecksumsVerify(damaged), $"{what}: bit {bit}");
        }
    }

    [Theory]
    [MemberData(nameof(Ipv6Packets))]
    public void Sum_CapturedIpv6PacketWithOneBitFlipped_FailsToVerify(string what, string hex)
    {
        byte[] packet = Convert.FromHexString(hex);
        for (int bit = 8 * 8; bit < packet.Length * 8; bit += 11)
        {
            byte[] damaged = (byte[])packet.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(Ipv6ChecksumVerifies(damaged), $"{what}: bit {bit}");
        }
    }

    private static bool Ipv4ChecksumsVerify(byte[] packet)
    {
        int headerLength = (packet[0] & 0xF) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2));
        Assert.Equal(packet.Length, totalLength);
        ReadOnlySpan<byte> header = packet.AsSpan(0, headerLength);
        ReadOnlySpan<byte> payload = packet.AsSpan(headerLength, totalLength - headerLength);
        byte protocol = packet[9];
        bool ok = true;
        foreach (SumPath sum in s_paths)
        {
            ok &= Checksum.Fold(sum(header, 0)) == 0xFFFF;
            uint initial = protocol == Icmp
                ? 0
                : Checksum.PseudoHeaderSum(header[12..16], header[16..20], protocol, (ushort)payload.Length);
            Assert.True(protocol is Icmp or Tcp or Udp);
            ok &= Checksum.Fold(sum(payload, initial)) == 0xFFFF;
        }
        return ok;
    }

    private static bool Ipv6ChecksumVerifies(byte[] packet)
    {
        const int HeaderLength = 40;
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(4));
        Assert.Equal(packet.Length, HeaderLength + payloadLength);
        byte nextHeader = packet[6];
        Assert.True(nextHeader is Udp or IcmpV6);
        ReadOnlySpan<byte> payload = packet.AsSpan(HeaderLength, payloadLength);
        bool ok = true;
        foreach (SumPath sum in s_paths)
        {
            uint initial = Checksum.PseudoHeaderSumV6(packet.AsSpan(8, 16), packet.AsSpan(24, 16), nextHeader, (uint)payloadLength);
            ok &= Checksum.Fold(sum(payload, initial)) == 0xFFFF;
        }
        return ok;
    }

    private static ushort Stored(byte[] packet, int offset) => BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(offset));

    private static Span<byte> WithZero(byte[] packet, int offset)
    {
        byte[] copy = (byte[])packet.Clone();
        copy[offset] = copy[offset + 1] = 0;
        return copy;
    }
}
