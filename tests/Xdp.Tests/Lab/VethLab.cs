using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using XdpStack.Lab;

namespace XdpStack.Xdp.Tests.Lab;

/// <summary>
/// A "local" namespace (where the AF_XDP code runs) joined by veths to one or more peer
/// namespaces whose Linux stack is the oracle. Peer i has 198.18.i.2/24; local's end is 198.18.i.1
/// (address on the interface, but with XDP attached the local kernel never sees the frames).
/// IPv6 is off everywhere so no router solicitations or MLD reports land in the sockets, and the
/// peers compute their checksums in software so their frames are complete on the wire.
/// </summary>
internal sealed class VethLab : IDisposable
{
    private readonly NetworkLab _lab = new();

    public VethLab(int peers = 1)
    {
        Local = _lab.AddNamespace("l");
        DisableIpv6(Local);
        for (int i = 0; i < peers; i++)
        {
            NetNamespace peer = _lab.AddNamespace("p" + i);
            DisableIpv6(peer);
            (string local, string remote) = _lab.AddVeth(Local, peer);
            Local.Ip("addr", "add", $"198.18.{i}.1/24", "dev", local);
            peer.Ip("addr", "add", $"198.18.{i}.2/24", "dev", remote);
            // veth offloads checksums: a peer's frames would carry only the pseudo-header sum
            // (CHECKSUM_PARTIAL), which Linux on the far side rejects once we forward them raw.
            peer.Check("ethtool", "-K", remote, "tx", "off");
            byte[] localMac = ReadMac(Local, local), peerMac = ReadMac(peer, remote);
            // The local kernel does not answer ARP once XDP takes its frames: pin the neighbour.
            peer.Ip("neigh", "replace", $"198.18.{i}.1", "lladdr", FormatMac(localMac), "dev", remote, "nud", "permanent");
            Links.Add(new VethLink(peer, local, remote, localMac, peerMac,
                IPAddress.Parse($"198.18.{i}.1"), IPAddress.Parse($"198.18.{i}.2")));
        }
    }

    public NetNamespace Local { get; }

    public List<VethLink> Links { get; } = [];

    public VethLink Link => Links[0];

    /// <summary>`ip -d link show` of a local interface.</summary>
    public string ShowLocal(string name) => Local.Ip("-d", "link", "show", "dev", name);

    public void Dispose() => _lab.Dispose();

    /// <summary>A UDP socket living in a namespace (sockets keep the namespace they were made in).</summary>
    public static Socket UdpSocket(NetNamespace ns, IPAddress address, int port)
    {
        using (ns.Enter())
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.ReceiveBufferSize = 4 << 20;
            s.Bind(new IPEndPoint(address, port));
            return s;
        }
    }

    public static string FormatMac(ReadOnlySpan<byte> mac) => string.Join(':', mac.ToArray().Select(b => b.ToString("x2")));

    private static byte[] ReadMac(NetNamespace ns, string dev)
    {
        string text = ns.Ip("-br", "link", "show", "dev", dev);
        string mac = text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
        return mac.Split(':').Select(h => Convert.ToByte(h, 16)).ToArray();
    }

    private static void DisableIpv6(NetNamespace ns)
    {
        ns.Check("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        ns.Check("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
    }
}

/// <summary>One veth between the local namespace and a peer.</summary>
internal sealed record VethLink(NetNamespace Peer, string LocalName, string PeerName,
    byte[] LocalMac, byte[] PeerMac, IPAddress LocalAddress, IPAddress PeerAddress);

/// <summary>Builds and reads Ethernet/IPv4/UDP frames for the tests (the stack lives elsewhere).</summary>
internal static class UdpFrame
{
    public const int HeaderLength = 14 + 20 + 8;

    /// <summary>Writes a frame with a valid IPv4 header checksum and no UDP checksum; returns its length.</summary>
    public static int Write(Span<byte> frame, ReadOnlySpan<byte> dstMac, ReadOnlySpan<byte> srcMac,
        IPAddress src, IPAddress dst, int srcPort, int dstPort, ReadOnlySpan<byte> payload)
    {
        dstMac.CopyTo(frame);
        srcMac.CopyTo(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], 0x0800);
        Span<byte> ip = frame.Slice(14, 20);
        ip.Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 8 + payload.Length));
        ip[8] = 64;
        ip[9] = 17;
        src.TryWriteBytes(ip[12..], out _);
        dst.TryWriteBytes(ip[16..], out _);
        uint sum = 0;
        for (int i = 0; i < 20; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(ip[i..]);
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~sum);
        Span<byte> udp = frame.Slice(34, 8);
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        payload.CopyTo(frame[HeaderLength..]);
        return HeaderLength + payload.Length;
    }

    /// <summary>The UDP payload when the frame is IPv4/UDP to <paramref name="dstPort"/>; empty otherwise.</summary>
    public static bool TryGetPayload(ReadOnlySpan<byte> frame, int dstPort, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        if (frame.Length < HeaderLength || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != 0x0800
            || frame[14] != 0x45 || frame[23] != 17 || BinaryPrimitives.ReadUInt16BigEndian(frame[36..]) != dstPort)
            return false;
        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(frame[38..]);
        if (udpLength < 8 || 34 + udpLength > frame.Length)
            return false;
        payload = frame.Slice(HeaderLength, udpLength - 8);
        return true;
    }

    /// <summary>A payload that names its sequence number and fills the rest with a pattern derived from it.</summary>
    public static byte[] Payload(int sequence, int length)
    {
        byte[] p = new byte[length];
        BinaryPrimitives.WriteInt32BigEndian(p, sequence);
        for (int i = 4; i < length; i++)
            p[i] = (byte)(sequence * 31 + i);
        return p;
    }
}
