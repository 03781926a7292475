using System.Buffers.Binary;
using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpActiveOpenTests;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>ICMP errors about our segments, as Linux's tcp_v4_err takes them: a failed connect, an error kept for the timeout, a smaller path MTU, a listener's half-open connection dropped.</summary>
public class TcpIcmpErrorTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);
    private static readonly Ipv4Address s_router = Ipv4Address.Parse("198.18.0.254");

    // An ICMPv4 error from a router on the link quoting our segment's IPv4 header and first 8 octets (RFC 792).
    internal static byte[] IcmpAbout(ushort localPort, ushort remotePort, uint sequence, byte type, byte code, uint rest = 0)
    {
        byte[] tcp = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, localPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), remotePort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), sequence);
        byte[] quoted = Packets.Ipv4(Packets.StackIp, Packets.HostIp, (byte)IpProtocol.Tcp, tcp, flagsFragment: 0x4000)[14..];
        byte[] body = new byte[4 + quoted.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body, rest);
        quoted.CopyTo(body, 4);
        return Packets.Ipv4(s_router, Packets.StackIp, (byte)IpProtocol.Icmp, Packets.Icmp(type, code, body));
    }

    private static byte[] IcmpAboutSyn(Sent syn, byte type, byte code, uint? sequence = null) =>
        IcmpAbout(syn.Header.SourcePort, PeerPort, sequence ?? syn.Sequence, type, code);

    private static async Task<TcpSocketException> ConnectFails(ValueTask<TcpSocket> connect) =>
        await Assert.ThrowsAsync<TcpSocketException>(() => connect.AsTask().WaitAsync(s_wait));

    [Theory]
    [InlineData(3, 3, TcpError.ConnectionRefused)] // port unreachable: ECONNREFUSED
    [InlineData(3, 1, TcpError.HostUnreachable)] // host unreachable, a soft error, still ends a connect
    [InlineData(3, 0, TcpError.NetworkUnreachable)]
    [InlineData(3, 13, TcpError.HostUnreachable)] // administratively filtered
    [InlineData(11, 0, TcpError.HostUnreachable)] // time exceeded in transit
    [InlineData(12, 0, TcpError.ProtocolError)] // parameter problem: EPROTO
    public async Task Connect_IcmpErrorAboutTheSyn_FailsTheConnectAtOnce(byte type, byte code, TcpError expected)
    {
        TcpFixture f = Fixture();
        (ValueTask<TcpSocket> connect, Sent syn) = StartConnect(f);

        Assert.Empty(f.Send(IcmpAboutSyn(syn, type, code)));

        TcpSocketException e = await ConnectFails(connect);
        Assert.Equal(expected, e.Error);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpIcmpErrors]);
        Assert.Empty(f.Advance(TimeSpan.FromSeconds(5))); // no SYN retransmitted: the connection is gone
    }

    [Theory]
    [InlineData(4)] // source quench: ignored since RFC 6633
    [InlineData(5)] // redirect
    public void Connect_IcmpOtherThanAnError_LeavesTheConnectAlone(byte type)
    {
        TcpFixture f = Fixture();
        (_, Sent syn) = StartConnect(f);

        f.Send(IcmpAboutSyn(syn, type, 0));

        Assert.Equal(TcpState.SynSent, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Assert.Equal(0, f[StatCounter.TcpIcmpErrors]);
    }

    [Fact]
    public void Connect_IcmpQuotingASequenceNotSent_IsIgnored()
    {
        TcpFixture f = Fixture();
        (_, Sent syn) = StartConnect(f);

        // RFC 5927 §4.1: a blind attacker must guess a sequence number in flight; ISS-1 and ISS+2 are not.
        f.Send(IcmpAboutSyn(syn, 3, 3, syn.Sequence - 1));
        f.Send(IcmpAboutSyn(syn, 3, 3, syn.Sequence + 2));
        // Nor another port pair.
        f.Send(IcmpAbout((ushort)(syn.Header.SourcePort + 1), PeerPort, syn.Sequence, 3, 3));

        Assert.Equal(TcpState.SynSent, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Assert.Equal(2, f[StatCounter.TcpOutOfWindowIcmps]);
        Assert.Equal(0, f[StatCounter.TcpIcmpErrors]);
    }

    [Fact]
    public async Task Connect_SynTimesOutAfterAnIcmpErrorWasKept_ReportsThatError()
    {
        // A synchronized connection keeps going on an ICMP error (RFC 1122 §4.2.3.9) and, when it gives up, says why.
        TcpFixture f = Fixture(new TcpSettings { MaxRetries = 2 });
        (ValueTask<TcpSocket> connect, Sent syn) = StartConnect(f);
        Assert.Single(f.Send(FromPeer(syn, TcpFlags.Syn | TcpFlags.Ack, PeerIsn, syn.Sequence + 1, mss: 1460, windowScale: null, sackPermitted: false)));
        TcpSocket socket = await connect.AsTask().WaitAsync(s_wait);
        Task write = socket.WriteAsync(new byte[100]).AsTask();
        f.Stack.Stack.PollTimers(0);
        await write.WaitAsync(s_wait);
        Sent data = Assert.Single(f.Drain());

        f.Send(IcmpAbout(syn.Header.SourcePort, PeerPort, data.Sequence, 3, 1));

        Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Assert.Equal(TcpError.None, socket.Error);
        for (int i = 0; i < 10 && f.Tcp.ConnectionsOf(0).Count > 0; i++)
            f.Advance(TimeSpan.FromSeconds(130));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        await Assert.ThrowsAsync<TcpSocketException>(() => socket.ReadAsync(new byte[16]).AsTask().WaitAsync(s_wait));
        Assert.Equal(TcpError.HostUnreachable, socket.Error);
    }

    [Theory]
    [InlineData(1000, 948)] // 1000 - 20 (IPv4) - 20 (TCP) - 12 (timestamps)
    [InlineData(300, 500)] // below Linux's min_pmtu: 552 is taken instead
    public async Task Established_FragmentationNeeded_ResendsWhatIsInFlightInSegmentsThatFit(ushort mtu, int mss)
    {
        TcpFixture f = Fixture();
        (ValueTask<TcpSocket> connect, Sent syn) = StartConnect(f);
        Assert.Single(f.Send(FromPeer(syn, TcpFlags.Syn | TcpFlags.Ack, PeerIsn, syn.Sequence + 1, mss: 1460, windowScale: null, sackPermitted: false,
            timestamps: new TcpTimestamps(777, syn.Header.Timestamps!.Value.Value))));
        TcpSocket socket = await connect.AsTask().WaitAsync(s_wait);
        byte[] payload = new byte[3000];
        new Random(3).NextBytes(payload);
        Task write = socket.WriteAsync(payload).AsTask();
        f.Stack.Stack.PollTimers(0);
        await write.WaitAsync(s_wait);
        List<Sent> first = f.Drain();
        Assert.Equal(1448, first[0].Payload.Length);

        List<Sent> again = f.Send(IcmpAbout(syn.Header.SourcePort, PeerPort, first[0].Sequence, 3, 4, mtu));

        Assert.NotEmpty(again);
        Assert.Equal(syn.Sequence + 1, again[0].Sequence);
        Assert.All(again, s => Assert.InRange(s.Payload.Length, 1, mss));
        Assert.All(again, s => Assert.True(s.DontFragment));
        Assert.Equal(mss, again[0].Payload.Length);
        // Resent in order and unchanged, from SND.UNA.
        byte[] resent = [.. again.SelectMany(s => s.Payload)];
        Assert.Equal(payload.AsSpan(0, resent.Length).ToArray(), resent);
        Assert.Equal(mss, Assert.Single(f.Tcp.ConnectionsOf(0)).SendMss);
        Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Assert.Equal(TcpError.None, socket.Error);

        // A larger MTU later does not raise it again (the path MTU only goes down until it expires).
        f.Send(IcmpAbout(syn.Header.SourcePort, PeerPort, syn.Sequence + 1, 3, 4, 1400));
        Assert.Equal(mss, Assert.Single(f.Tcp.ConnectionsOf(0)).SendMss);
    }

    [Fact]
    public void Listener_HalfOpen_DroppedByHostUnreachableAboutItsSynAck_KeptForPortUnreachable()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        List<Sent> synAck = f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460));
        uint iss = Assert.Single(synAck).Sequence;

        // Linux's tcp_req_err: only net/host unreachable, time exceeded and parameter problem drop a request.
        f.Send(IcmpAbout(7, ClientPort, iss, 3, 3));
        Assert.Equal(TcpState.SynReceived, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        f.Send(IcmpAbout(7, ClientPort, iss + 1, 3, 1));
        Assert.Equal(TcpState.SynReceived, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Assert.Equal(1, f[StatCounter.TcpOutOfWindowIcmps]);

        f.Send(IcmpAbout(7, ClientPort, iss, 3, 1));

        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpListenDrops]);
        // The listener is whole: the client's retransmitted SYN opens afresh.
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460))).Flags);
    }

    [Theory]
    [InlineData(3, 0, 0u, TcpError.NetworkUnreachable, 0, true)]
    [InlineData(3, 1, 0u, TcpError.HostUnreachable, 0, true)]
    [InlineData(3, 2, 0u, TcpError.ProtocolUnreachable, 0, false)]
    [InlineData(3, 3, 0u, TcpError.ConnectionRefused, 0, false)]
    [InlineData(3, 4, 1400u, TcpError.None, 1400, false)]
    [InlineData(3, 4, 0u, TcpError.None, 552, false)]
    [InlineData(3, 5, 0u, TcpError.SourceRouteFailed, 0, false)]
    [InlineData(3, 6, 0u, TcpError.NetworkUnreachable, 0, false)]
    [InlineData(3, 7, 0u, TcpError.HostDown, 0, false)]
    [InlineData(3, 8, 0u, TcpError.HostIsolated, 0, false)]
    [InlineData(3, 9, 0u, TcpError.NetworkUnreachable, 0, false)]
    [InlineData(3, 10, 0u, TcpError.HostUnreachable, 0, false)]
    [InlineData(3, 11, 0u, TcpError.NetworkUnreachable, 0, false)]
    [InlineData(3, 12, 0u, TcpError.HostUnreachable, 0, false)]
    [InlineData(3, 13, 0u, TcpError.HostUnreachable, 0, false)]
    [InlineData(3, 15, 0u, TcpError.HostUnreachable, 0, false)]
    [InlineData(3, 16, 0u, TcpError.None, 0, false)]
    [InlineData(4, 0, 0u, TcpError.None, 0, false)]
    [InlineData(11, 1, 0u, TcpError.HostUnreachable, 0, true)]
    [InlineData(12, 0, 0u, TcpError.ProtocolError, 0, true)]
    public void FromIcmpv4_FollowsLinuxsTable(byte type, byte code, uint info, TcpError error, int pathMtu, bool abortsHalfOpen) =>
        Assert.Equal(new TcpIcmpError(error, pathMtu, abortsHalfOpen), TcpIcmpError.FromIcmpv4(type, code, info));

    [Theory]
    [InlineData(1, 0, 0u, TcpError.NetworkUnreachable, 0, false)]
    [InlineData(1, 1, 0u, TcpError.AccessDenied, 0, true)]
    [InlineData(1, 3, 0u, TcpError.HostUnreachable, 0, false)]
    [InlineData(1, 4, 0u, TcpError.ConnectionRefused, 0, true)]
    [InlineData(1, 6, 0u, TcpError.AccessDenied, 0, true)]
    [InlineData(1, 9, 0u, TcpError.ProtocolError, 0, true)]
    [InlineData(2, 0, 1400u, TcpError.None, 1400, false)]
    [InlineData(2, 0, 1279u, TcpError.None, 0, false)] // below the IPv6 minimum: ignored
    [InlineData(3, 0, 0u, TcpError.HostUnreachable, 0, false)]
    [InlineData(4, 1, 0u, TcpError.ProtocolError, 0, true)]
    public void FromIcmpv6_FollowsLinuxsTable(byte type, byte code, uint info, TcpError error, int pathMtu, bool abortsHalfOpen) =>
        Assert.Equal(new TcpIcmpError(error, pathMtu, abortsHalfOpen), TcpIcmpError.FromIcmpv6(type, code, info));
}
