using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using XdpStack.Lab;
using XdpStack.Stack.Routing;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Tests.Link;
using XdpStack.Stack.Transport.Udp;
using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Tests.Transport.Udp;

/// <summary>The stack's echo and discard services over a veth (AF_PACKET) against Linux UDP sockets, which check addresses, ports and checksums themselves.</summary>
[Trait("Category", "Root")]
public sealed class UdpServiceLinuxTests : IDisposable
{
    private const ushort EchoPort = 7;
    private const ushort DiscardPort = 9;

    private readonly NetworkLab _lab = new();
    private readonly NetNamespace _host;
    private readonly PacketSocketEndpoint _link;
    private readonly NetworkStack _stack = new();

    public UdpServiceLinuxTests()
    {
        try
        {
            _host = _lab.AddNamespace("host");
            NetNamespace dut = _lab.AddNamespace("dut");
            (string hostDev, string dutDev) = _lab.AddVeth(_host, dut);
            dut.Ip("link", "set", dutDev, "address", Packets.StackMac.ToString());
            // The DUT-side kernel must not answer for the stack: no IPv6 (and no IPv4 address) on its side.
            dut.Check("sysctl", "-q", "-w", $"net.ipv6.conf.{dutDev}.disable_ipv6=1");
            // Linux fills in UDP checksums, which a packet socket would otherwise see unfinished.
            _host.Check("ethtool", "-K", hostDev, "tx", "off");
            _host.Ip("addr", "add", "198.18.0.1/24", "dev", hostDev);
            _host.Ip("-6", "addr", "add", "2001:2::1/64", "dev", hostDev, "nodad");

            _link = new PacketSocketEndpoint(dut, dutDev, Packets.StackMac);
            Assert.Equal(StackError.None, _stack.CreateNic(new NicId(1), _link, "veth"));
            Assert.Equal(StackError.None, _stack.AddAddress(new NicId(1), Packets.StackIp, 24));
            Assert.Equal(StackError.None, _stack.AddAddress(new NicId(1), Packets6.StackIp, 64));
            _stack.AddRoute(new Ipv4Route(Ipv4Prefix.Parse("198.18.0.0/24"), Ipv4Address.Any, 1));
            _stack.AddRoute(new Ipv6Route(Ipv6Prefix.Parse("2001:2::/64"), Ipv6Address.Any, 1));
            UdpProtocol udp = UdpProtocol.Install(_stack);
            Assert.Equal(StackError.None, udp.AddService(UdpServiceKind.Echo, EchoPort));
            Assert.Equal(StackError.None, udp.AddService(UdpServiceKind.Discard, DiscardPort));
            _link.Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private Nic Nic => _stack.Nics[new NicId(1)];

    public void Dispose()
    {
        _link?.Dispose();
        _lab.Dispose();
    }

    /// <summary>
    /// 1,000 datagrams of 1 to 1,400 octets, 32 in flight, each carrying its sequence number, come
    /// back once, in order and intact to a connected Linux socket; Linux's UDP counters show no
    /// checksum or other receive error.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LinuxConnectedSocket_EchoService_ThousandDatagramsBackIntact(bool ipv6)
    {
        const int count = 1000;
        const int window = 32;
        Dictionary<string, long> before = LinuxUdpCounters(ipv6);
        using Socket client = ConnectedClient(ipv6, EchoPort);
        client.ReceiveTimeout = 2000;
        byte[] receive = new byte[2048];
        // Warm up until one round trip works: Linux resolves the stack's address first.
        bool warm = false;
        for (int attempt = 0; attempt < 5 && !warm; attempt++)
        {
            client.Send(BitConverter.GetBytes(-1));
            try
            {
                warm = client.Receive(receive) == 4 && BitConverter.ToInt32(receive) == -1;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
            }
        }
        Assert.True(warm);
        long repliesBefore = Nic.Stats[StatCounter.UdpEchoReplies];

        int sent = 0, received = 0;
        while (received < count)
        {
            while (sent < count && sent - received < window)
            {
                client.Send(Datagram(sent));
                sent++;
            }
            int n = client.Receive(receive);
            Assert.Equal(Datagram(received), receive[..n]);
            received++;
        }

        Assert.Equal(count, Nic.Stats[StatCounter.UdpEchoReplies] - repliesBefore);
        Dictionary<string, long> after = LinuxUdpCounters(ipv6);
        string prefix = ipv6 ? "Udp6" : "Udp";
        Assert.Equal(before[prefix + "InCsumErrors"], after[prefix + "InCsumErrors"]);
        Assert.Equal(before[prefix + "InErrors"], after[prefix + "InErrors"]);
        Assert.True(after[prefix + "InDatagrams"] - before[prefix + "InDatagrams"] >= count);
    }

    /// <summary>Datagrams to the discard port are counted by the stack; the connected Linux socket sees no reply and no ICMP error (no ECONNREFUSED) within its receive timeout.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LinuxConnectedSocket_DiscardService_NoReplyNoError(bool ipv6)
    {
        const int count = 20;
        using Socket client = ConnectedClient(ipv6, DiscardPort);
        client.ReceiveTimeout = 1500;
        for (int i = 0; i < count; i++)
            client.Send(Datagram(i));

        SocketException timeout = Assert.Throws<SocketException>(() => client.Receive(new byte[2048]));

        Assert.Equal(SocketError.TimedOut, timeout.SocketErrorCode);
        // Linux resolves the stack first, holding the datagrams meanwhile; the receive thread may lag.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Nic.Stats[StatCounter.UdpDiscarded] < count && DateTime.UtcNow < deadline)
            Thread.Sleep(10);
        Assert.Equal(count, Nic.Stats[StatCounter.UdpDiscarded]);
        Assert.Equal(0, Nic.Stats[StatCounter.UdpUnknownPortErrors]);
        Assert.Equal(0, Nic.Stats[StatCounter.Icmpv6ErrorsSent] + Nic.Stats[StatCounter.IcmpDestinationUnreachableSent]);
    }

    // Sequence number first, then a pattern of it; sizes from 1 to 1,400 octets.
    private static byte[] Datagram(int sequence)
    {
        byte[] datagram = new byte[4 + ((sequence * 37) % 1397)];
        BinaryPrimitives.WriteInt32BigEndian(datagram, sequence);
        for (int i = 4; i < datagram.Length; i++)
            datagram[i] = (byte)(sequence + (i * 7));
        return datagram;
    }

    private Socket ConnectedClient(bool ipv6, ushort port)
    {
        Socket client;
        using (_host.Enter())
            client = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Connect(new IPEndPoint(IPAddress.Parse(ipv6 ? "2001:2::2" : "198.18.0.2"), port));
        return client;
    }

    // The host namespace's Udp: counters (/proc/net/snmp) or Udp6 ones (/proc/net/snmp6), by name.
    private Dictionary<string, long> LinuxUdpCounters(bool ipv6)
    {
        var counters = new Dictionary<string, long>();
        if (ipv6)
        {
            foreach (string line in _host.Check("cat", "/proc/net/snmp6").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 2 && parts[0].StartsWith("Udp6", StringComparison.Ordinal))
                    counters[parts[0]] = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            return counters;
        }
        string[] udp = [.. _host.Check("cat", "/proc/net/snmp").Split('\n').Where(l => l.StartsWith("Udp:", StringComparison.Ordinal))];
        string[] names = udp[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] values = udp[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 1; i < names.Length; i++)
            counters["Udp" + names[i]] = long.Parse(values[i], System.Globalization.CultureInfo.InvariantCulture);
        return counters;
    }
}
