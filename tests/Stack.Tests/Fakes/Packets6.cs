using System.Buffers.Binary;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Fakes;

/// <summary>Builds IPv6, ICMPv6 and NDP test frames byte by byte, with checksums from the RFC 1071 reference only.</summary>
internal static class Packets6
{
    public static readonly Ipv6Address HostIp = Ipv6Address.Parse("2001:2::1");
    public static readonly Ipv6Address StackIp = Ipv6Address.Parse("2001:2::2");

    /// <summary>A frame with an IPv6 header; <paramref name="payload"/> starts with any extension headers, whose chain begins at <paramref name="nextHeader"/>.</summary>
    public static byte[] Ipv6(Ipv6Address source, Ipv6Address destination, byte nextHeader, ReadOnlySpan<byte> payload,
        byte hopLimit = 64, MacAddress? to = null, MacAddress? from = null)
    {
        byte[] frame = new byte[14 + 40 + payload.Length];
        (to ?? (destination.IsMulticast ? MacAddress.FromIpv6Multicast(destination) : Packets.StackMac)).CopyTo(frame);
        (from ?? Packets.HostMac).CopyTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x86DD);
        Span<byte> ip = frame.AsSpan(14);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)payload.Length);
        ip[6] = nextHeader;
        ip[7] = hopLimit;
        source.CopyTo(ip[8..]);
        destination.CopyTo(ip[24..]);
        payload.CopyTo(ip[40..]);
        return frame;
    }

    /// <summary>An ICMPv6 message with its checksum over the pseudo-header of <paramref name="source"/> and <paramref name="destination"/>.</summary>
    public static byte[] Icmpv6(Ipv6Address source, Ipv6Address destination, byte type, byte code, uint rest, ReadOnlySpan<byte> body)
    {
        byte[] message = new byte[8 + body.Length];
        message[0] = type;
        message[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), rest);
        body.CopyTo(message.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), Checksum6(source, destination, 58, message));
        return message;
    }

    /// <summary>The RFC 1071 checksum over an IPv6 pseudo-header and <paramref name="upper"/>, computed by the test reference.</summary>
    public static ushort Checksum6(Ipv6Address source, Ipv6Address destination, byte nextHeader, ReadOnlySpan<byte> upper)
    {
        byte[] pseudo = new byte[40 + upper.Length];
        source.CopyTo(pseudo);
        destination.CopyTo(pseudo.AsSpan(16));
        BinaryPrimitives.WriteUInt32BigEndian(pseudo.AsSpan(32), (uint)upper.Length);
        pseudo[39] = nextHeader;
        upper.CopyTo(pseudo.AsSpan(40));
        return Wire.ChecksumReference.Compute(pseudo);
    }

    public static byte[] EchoBody(int dataLength)
    {
        byte[] body = new byte[dataLength];
        for (int i = 0; i < dataLength; i++)
            body[i] = (byte)(i * 7);
        return body;
    }

    public static byte[] EchoRequest(Ipv6Address source, Ipv6Address destination, int dataLength = 16, ushort id = 0x4242, ushort sequence = 1)
    {
        byte[] message = Icmpv6(source, destination, 128, 0, ((uint)id << 16) | sequence, EchoBody(dataLength));
        return Ipv6(source, destination, 58, message);
    }

    /// <summary>A Neighbor Solicitation for <paramref name="target"/>, to its solicited-node group unless <paramref name="destination"/> is given.</summary>
    public static byte[] Solicitation(Ipv6Address source, Ipv6Address target, MacAddress? sourceLinkAddress,
        Ipv6Address? destination = null, byte hopLimit = 255, byte code = 0)
    {
        Ipv6Address to = destination ?? target.SolicitedNodeMulticast;
        byte[] body = new byte[16 + (sourceLinkAddress is null ? 0 : 8)];
        target.CopyTo(body);
        if (sourceLinkAddress is { } mac)
        {
            body[16] = 1;
            body[17] = 1;
            mac.CopyTo(body.AsSpan(18));
        }
        return Ipv6(source, to, 58, Icmpv6(source, to, 135, code, 0, body), hopLimit);
    }

    /// <summary>A Neighbor Advertisement from <paramref name="target"/> with the given flags and an optional target link-layer option.</summary>
    public static byte[] Advertisement(Ipv6Address target, Ipv6Address destination, bool solicited, bool isOverride,
        MacAddress? targetLinkAddress, byte hopLimit = 255, MacAddress? from = null)
    {
        byte[] body = new byte[16 + (targetLinkAddress is null ? 0 : 8)];
        target.CopyTo(body);
        if (targetLinkAddress is { } mac)
        {
            body[16] = 2;
            body[17] = 1;
            mac.CopyTo(body.AsSpan(18));
        }
        uint flags = (solicited ? 0x4000_0000u : 0) | (isOverride ? 0x2000_0000u : 0);
        return Ipv6(target, destination, 58, Icmpv6(target, destination, 136, 0, flags, body), hopLimit, from: from);
    }

    /// <summary>A fragment: fixed header, a Fragment header naming <paramref name="nextHeader"/>, then <paramref name="data"/>.</summary>
    public static byte[] Fragment(Ipv6Address source, Ipv6Address destination, byte nextHeader, int offset, bool more, uint identification, ReadOnlySpan<byte> data)
    {
        byte[] payload = new byte[8 + data.Length];
        payload[0] = nextHeader;
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(2), (ushort)(offset | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), identification);
        data.CopyTo(payload.AsSpan(8));
        return Ipv6(source, destination, 44, payload);
    }

    public static Ipv6Address Source(byte[] frame) => new(frame.AsSpan(22, 16));

    public static Ipv6Address Destination(byte[] frame) => new(frame.AsSpan(38, 16));

    /// <summary>True when the ICMPv6 message after a bare fixed header verifies against the frame's addresses.</summary>
    public static bool IcmpChecksumValid(byte[] frame) =>
        Checksum6(Source(frame), Destination(frame), 58, frame.AsSpan(54)) == 0;
}
