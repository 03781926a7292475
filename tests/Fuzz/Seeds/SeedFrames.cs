using XdpStack.Fuzz.Router;
using XdpStack.Stack.Wire;

namespace XdpStack.Fuzz;

/// <summary>Frames for the router targets' seeds: captured packets readdressed to pass through <see cref="FuzzRouter"/>, and UDP packets built from scratch.</summary>
internal static class SeedFrames
{
    /// <summary>
    /// The captured IPv4 and IPv6 frames, readdressed as transit traffic: from host A on nic 1 to host B and to beyond the
    /// gateway, and from host B on nic 2 to host A. The IPv4 header checksum is summed again; upper-layer checksums
    /// cover the old addresses, which forwarding does not look at.
    /// </summary>
    public static IEnumerable<(bool SecondNic, byte[] Frame)> Transit(SeedSource source)
    {
        foreach (byte[] captured in source.Frames)
        {
            if (!EthernetFrame.TryCreate((byte[])captured.Clone(), out EthernetFrame probe, out _) || probe.HasVlanTag)
                continue;
            if (probe.EtherType == EtherType.Ipv4)
            {
                yield return (false, Readdress4(captured, FuzzRouter.Mac1, FuzzRouter.HostAMac, FuzzRouter.HostB));
                yield return (false, Readdress4(captured, FuzzRouter.Mac1, FuzzRouter.HostAMac, FuzzRouter.BeyondGateway));
                yield return (true, Readdress4(captured, FuzzRouter.Mac2, FuzzRouter.HostBMac, FuzzRouter.HostA));
            }
            else if (probe.EtherType == EtherType.Ipv6)
            {
                yield return (false, Readdress6(captured, FuzzRouter.Mac1, FuzzRouter.HostAMac, FuzzRouter.Host6B));
                yield return (false, Readdress6(captured, FuzzRouter.Mac1, FuzzRouter.HostAMac, FuzzRouter.BeyondGateway6));
                yield return (true, Readdress6(captured, FuzzRouter.Mac2, FuzzRouter.HostBMac, FuzzRouter.Host6A));
            }
        }
        foreach (int length in new[] { 0, 18, 1000, 1372, 1400 })
        {
            yield return (false, Udp4(FuzzRouter.HostA, FuzzRouter.HostB, 64, length));
            yield return (false, Udp6(FuzzRouter.Host6A, FuzzRouter.BeyondGateway6, 64, length));
        }
        yield return (false, Udp4(FuzzRouter.HostA, FuzzRouter.HostB, 1, 8));
        yield return (false, Udp6(FuzzRouter.Host6A, FuzzRouter.Host6B, 1, 8));
    }

    /// <summary>A UDP packet from host A to <paramref name="destination"/> on nic 1, to port 7, with a valid checksum.</summary>
    public static byte[] Udp4(Ipv4Address source, Ipv4Address destination, byte ttl, int payloadLength)
    {
        var udp = new UdpHeader(40000, 7, payloadLength);
        var ip = new Ipv4Header(source, destination, IpProtocol.Udp, ttl, udp.BufferLength) { Identification = 0x1234 };
        byte[] frame = new byte[14 + ip.BufferLength];
        new EthernetHeader(FuzzRouter.Mac1, FuzzRouter.HostAMac, EtherType.Ipv4).Emit(frame);
        ip.Emit(frame.AsSpan(14));
        Span<byte> datagram = frame.AsSpan(34);
        for (int i = 8; i < datagram.Length; i++)
            datagram[i] = (byte)i;
        udp.EmitWithChecksum(datagram, source, destination);
        return frame;
    }

    /// <summary>The IPv6 counterpart of <see cref="Udp4"/>.</summary>
    public static byte[] Udp6(Ipv6Address source, Ipv6Address destination, byte hopLimit, int payloadLength)
    {
        var udp = new UdpHeader(40000, 7, payloadLength);
        var ip = new Ipv6Header(source, destination, IpProtocol.Udp, hopLimit, udp.BufferLength);
        byte[] frame = new byte[14 + ip.BufferLength];
        new EthernetHeader(FuzzRouter.Mac1, FuzzRouter.HostAMac, EtherType.Ipv6).Emit(frame);
        ip.Emit(frame.AsSpan(14));
        Span<byte> datagram = frame.AsSpan(54);
        for (int i = 8; i < datagram.Length; i++)
            datagram[i] = (byte)i;
        udp.EmitWithChecksum(datagram, source, destination);
        return frame;
    }

    /// <summary>A TCP segment from host A to the router's nic-1 address, from port 40000 to <paramref name="port"/>, with a valid checksum; a SYN offers MSS, window scaling, SACK and timestamps as Linux does.</summary>
    public static byte[] Tcp(bool ipv6, ushort port, TcpFlags flags, uint sequence, uint acknowledgment, byte[] payload)
    {
        bool syn = (flags & TcpFlags.Syn) != 0;
        var tcp = new TcpHeader(40000, port, sequence, acknowledgment, flags, 64240)
        {
            MaxSegmentSize = syn ? (ushort)1460 : null,
            WindowScale = syn ? (byte)7 : null,
            SackPermitted = syn,
            Timestamps = new TcpTimestamps(100 + sequence, 0),
        };
        byte[] segment = new byte[tcp.HeaderLength + payload.Length];
        payload.CopyTo(segment, tcp.HeaderLength);
        if (ipv6)
        {
            tcp.EmitWithChecksum(segment, FuzzRouter.Host6A, FuzzRouter.Ip6A);
            var ip = new Ipv6Header(FuzzRouter.Host6A, FuzzRouter.Ip6A, IpProtocol.Tcp, 64, segment.Length);
            byte[] frame = new byte[14 + ip.BufferLength];
            new EthernetHeader(FuzzRouter.Mac1, FuzzRouter.HostAMac, EtherType.Ipv6).Emit(frame);
            ip.Emit(frame.AsSpan(14));
            segment.CopyTo(frame, 54);
            return frame;
        }
        else
        {
            tcp.EmitWithChecksum(segment, FuzzRouter.HostA, FuzzRouter.Ip1);
            var ip = new Ipv4Header(FuzzRouter.HostA, FuzzRouter.Ip1, IpProtocol.Tcp, 64, segment.Length) { DontFragment = true };
            byte[] frame = new byte[14 + ip.BufferLength];
            new EthernetHeader(FuzzRouter.Mac1, FuzzRouter.HostAMac, EtherType.Ipv4).Emit(frame);
            ip.Emit(frame.AsSpan(14));
            segment.CopyTo(frame, 34);
            return frame;
        }
    }

    private static byte[] Readdress4(byte[] captured, MacAddress to, MacAddress from, Ipv4Address destination)
    {
        byte[] frame = (byte[])captured.Clone();
        to.CopyTo(frame);
        from.CopyTo(frame.AsSpan(6));
        if (Ipv4Packet.TryCreate(frame.AsSpan(14), out Ipv4Packet ip, out _))
        {
            if (from == FuzzRouter.HostBMac)
                ip.Source = FuzzRouter.HostB;
            ip.Destination = destination;
            ip.FillChecksum();
        }
        return frame;
    }

    private static byte[] Readdress6(byte[] captured, MacAddress to, MacAddress from, Ipv6Address destination)
    {
        byte[] frame = (byte[])captured.Clone();
        to.CopyTo(frame);
        from.CopyTo(frame.AsSpan(6));
        if (Ipv6Packet.TryCreate(frame.AsSpan(14), out Ipv6Packet ip, out _))
        {
            if (from == FuzzRouter.HostBMac)
                ip.Source = FuzzRouter.Host6B;
            ip.Destination = destination;
        }
        return frame;
    }
}
