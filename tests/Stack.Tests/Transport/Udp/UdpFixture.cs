using System.Buffers.Binary;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport.Udp;

/// <summary>A stack with 198.18.0.2/24 and 2001:2::2/64 on NIC 1, on-link routes for both, and UDP installed.</summary>
internal sealed class UdpFixture
{
    public UdpFixture(int workers = 1)
    {
        F = new StackFixture(workers);
        Assert.Equal(StackError.None, F.Stack.AddAddress(StackFixture.Nic1, Packets6.StackIp, 64));
        F.Stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1));
        F.Stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2::/64"), Ipv6Address.Any, 1));
        F.Link.Clear();
        Udp = UdpProtocol.Install(F.Stack);
    }

    public StackFixture F { get; }

    public UdpProtocol Udp { get; }

    public static byte[] Datagram(ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        byte[] udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        payload.CopyTo(udp.AsSpan(8));
        return udp;
    }

    public static byte[] Udp4(Ipv4Address source, Ipv4Address destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload, bool zeroChecksum = false,
        MacAddress? to = null)
    {
        byte[] udp = Datagram(sourcePort, destinationPort, payload);
        if (!zeroChecksum)
        {
            byte[] pseudo = new byte[12 + udp.Length];
            source.CopyTo(pseudo);
            destination.CopyTo(pseudo.AsSpan(4));
            pseudo[9] = 17;
            BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)udp.Length);
            udp.CopyTo(pseudo.AsSpan(12));
            ushort sum = Wire.ChecksumReference.Compute(pseudo);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), sum == 0 ? (ushort)0xFFFF : sum);
        }
        return Packets.Ipv4(source, destination, 17, udp, to: to);
    }

    public static byte[] Udp6(Ipv6Address source, Ipv6Address destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload, bool zeroChecksum = false,
        byte hopLimit = 64)
    {
        byte[] udp = Datagram(sourcePort, destinationPort, payload);
        if (!zeroChecksum)
        {
            ushort sum = Packets6.Checksum6(source, destination, 17, udp);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), sum == 0 ? (ushort)0xFFFF : sum);
        }
        return Packets6.Ipv6(source, destination, 17, udp, hopLimit);
    }
}
