using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using Xunit.Abstractions;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

public class TcpSynCookieTests(ITestOutputHelper output)
{
    private static TcpFixture Always(TcpSettings? settings = null)
    {
        var f = new TcpFixture((settings ?? new TcpSettings()) with { SynCookies = TcpSynCookieMode.Always });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        return f;
    }

    [Fact]
    public void Always_SynKeepsNoStateAndTheAckOpensAnEstablishedConnection()
    {
        TcpFixture f = Always();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460)));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(0, synAck.Identification);
        Assert.Equal(1001u, synAck.Ack);
        Assert.Equal((ushort)1460, synAck.Header.MaxSegmentSize);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpSynCookiesSent]);

        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1)));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpState.Established, c.State);
        Assert.Equal(1460, c.SendMss);
        Assert.Equal(0, c.SendWindowShift);
        Assert.False(c.SackPermitted);
        Assert.Equal(1, f[StatCounter.TcpSynCookiesValidated]);
        Assert.Equal(1, f[StatCounter.TcpEstablished]);

        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, synAck.Sequence + 1, "hello"u8))));
        Assert.Equal("hello"u8.ToArray(), echo.Payload);
        Assert.Equal(synAck.Sequence + 1, echo.Sequence);
        Assert.Equal(1006u, echo.Ack);
    }

    [Fact]
    public void Always_DataOnTheThirdSegmentOfTheHandshakeIsDelivered()
    {
        TcpFixture f = Always();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 5000, 0, mss: 1460)));
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 5001, synAck.Sequence + 1, "abc"u8))));
        Assert.Equal("abc"u8.ToArray(), echo.Payload);
        Assert.Equal(5004u, echo.Ack);
    }

    [Fact]
    public void WithoutTimestamps_NoWindowScaleNoSackOffered()
    {
        TcpFixture f = Always();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, windowScale: 7, sackPermitted: true)));
        Assert.Null(synAck.Header.WindowScale);
        Assert.False(synAck.Header.SackPermitted);
        Assert.Null(synAck.Header.Timestamps);
        // As the SYN-ACK of a half-open connection: 64 KiB in whole 1460-octet segments (Linux's 64240).
        Assert.Equal((ushort)64240, synAck.Header.WindowSize);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512)));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(0, c.SendWindowShift);
        Assert.False(c.SackPermitted);
    }

    [Fact]
    public void WithTimestamps_WindowScaleAndSackSurviveInTheEchoedTsval()
    {
        TcpFixture f = Always();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, windowScale: 7, sackPermitted: true, timestamps: new TcpTimestamps(555, 0))));
        Assert.Equal((byte)1, synAck.Header.WindowScale);
        Assert.True(synAck.Header.SackPermitted);
        TcpTimestamps ts = synAck.Header.Timestamps!.Value;
        Assert.Equal(555u, ts.EchoReply);
        Assert.Equal(7u | 0x10, ts.Value & 0x3f);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512, timestamps: new TcpTimestamps(556, ts.Value))));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(7, c.SendWindowShift);
        Assert.True(c.SackPermitted);
        Assert.True(c.TimestampsOn);
        Assert.Equal(1460 - 12, c.SendMss);
        // Our window is scaled by the shift the SYN-ACK announced.
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, synAck.Sequence + 1, "x"u8, window: 512, timestamps: new TcpTimestamps(557, ts.Value)))));
        Assert.Equal(65536 >> 1, echo.Header.WindowSize);
        Assert.Equal(557u, echo.Header.Timestamps!.Value.EchoReply);
    }

    [Fact]
    public void WithTimestamps_TheEchoedCookieTsvalTimesTheHandshake()
    {
        // No state was kept when the cookie SYN-ACK left; as in Linux the RTT comes from the echoed TSval, which lags
        // our clock by the bits the options took (up to 63 ms): a 100 ms handshake reads as 100..163 ms, RTO 3 x that.
        TcpFixture f = Always();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, windowScale: 7, sackPermitted: true, timestamps: new TcpTimestamps(555, 0))));
        TcpTimestamps ts = synAck.Header.Timestamps!.Value;
        f.Clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512, timestamps: new TcpTimestamps(556, ts.Value))));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.InRange(c.SmoothedRtt, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(163));
        Assert.Equal(3 * c.SmoothedRtt, c.RetransmissionTimeout);
    }

    [Theory]
    [InlineData(1460, 1460)]
    [InlineData(1459, 1440)]
    [InlineData(1400, 1300)]
    [InlineData(1000, 536)]
    [InlineData(9000, 1460)]
    public void Mss_RoundedDownToTheCookieTable(ushort peerMss, int expected)
    {
        TcpFixture f = Always();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: peerMss)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1)));
        Assert.Equal(expected, Assert.Single(f.Tcp.ConnectionsOf(0)).SendMss);
    }

    [Fact]
    public void ForgedOrAlteredAck_RstAndCountedNoConnection()
    {
        TcpFixture f = Always();
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460)));
        // The cookie plus one, but for another client sequence number (the client's ISN is added in, as in Linux, so
        // only a change beyond the MSS index's range shows).
        Sent rst = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001 + 0x10000, synAck.Sequence + 1)));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(synAck.Sequence + 1, rst.Sequence);
        // Another client port.
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, clientPort: ClientPort + 1)));
        // Each bit of the cookie above the MSS index flipped in turn (the index's two bits are only added, as in
        // Linux: another valid index is another MSS, and whoever knows the cookie could complete the handshake anyway).
        for (int bit = 2; bit < 32; bit++)
            Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, (synAck.Sequence ^ (1u << bit)) + 1)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(32, f[StatCounter.TcpSynCookiesFailed]);
        Assert.Equal(0, f[StatCounter.TcpSynCookiesValidated]);
    }

    [Fact]
    public void Cookie_ValidForThePreviousPeriodNotOlder()
    {
        TcpFixture f = Always();
        // At the start of a period: the cookie is good through the next one (64 to 128 s) and no longer.
        f.Clock.Advance(TimeSpan.FromMicroseconds(TcpSynCookie.PeriodUs * 10 - f.Clock.Now.Ticks / 10 % TcpSynCookie.PeriodUs));
        Sent a = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 40001)));
        Sent b = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 40002)));
        f.Advance(TimeSpan.FromSeconds(127));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, a.Sequence + 1, clientPort: 40001)));
        f.Advance(TimeSpan.FromSeconds(2));
        Sent rst = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, b.Sequence + 1, clientPort: 40002)));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(1, f[StatCounter.TcpSynCookiesValidated]);
        Assert.Equal(1, f[StatCounter.TcpSynCookiesFailed]);
    }

    [Fact]
    public void OnOverflow_HalfOpenUpToTheBacklogThenCookies()
    {
        var f = new TcpFixture(new TcpSettings { Backlog = 2 });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        // Before any cookie was sent, an ACK to the listener is not checked for one: RST, nothing counted.
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, 12345)));
        Assert.Equal(0, f[StatCounter.TcpSynCookiesFailed]);
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 40001)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 40002)));
        Sent cookie = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 40003)));
        Assert.Equal(2, f.Tcp.ConnectionsOf(0).Count);
        Assert.Equal(1, f[StatCounter.TcpSynCookiesSent]);
        Assert.Equal(0, f[StatCounter.TcpListenDrops]);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, cookie.Sequence + 1, clientPort: 40003)));
        Assert.Equal(TcpState.Established, f.Tcp.ConnectionsOf(0).Single(c => c.RemotePort == 40003).State);
        // The cookie connection never counted against the backlog: two half-open remain, and a fourth SYN gets a cookie too.
        Assert.Equal(2, f.Tcp.Listeners[0].HalfOpen(0));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 40004)));
        Assert.Equal(2, f[StatCounter.TcpSynCookiesSent]);
        // Two minutes after the last cookie, ACKs are no longer checked (Linux's tcp_synq_no_recent_overflow).
        f.Advance(TimeSpan.FromSeconds(121));
        long failed = f[StatCounter.TcpSynCookiesFailed];
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, 777, clientPort: 40005)));
        Assert.Equal(failed, f[StatCounter.TcpSynCookiesFailed]);
    }

    [Fact]
    public void ServiceSettings_OverrideTheStackDefaults()
    {
        var f = new TcpFixture(new TcpSettings { SynCookies = TcpSynCookieMode.Off });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7, Backlog: 1, SynCookies: TcpSynCookieMode.OnOverflow)));
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Discard, 9, Backlog: 1)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, clientPort: 40001)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, clientPort: 40002)));
        Assert.Single(f.Send(Segment(9, TcpFlags.Syn, 1000, 0, clientPort: 40001)));
        Assert.Empty(f.Send(Segment(9, TcpFlags.Syn, 1000, 0, clientPort: 40002)));
        Assert.Equal(1, f[StatCounter.TcpSynCookiesSent]);
        Assert.Equal(1, f[StatCounter.TcpListenDrops]);
    }

    [Fact]
    public void SynFlood_TablesBoundedNothingAllocatedRealClientsServedForgeriesRejected()
    {
        const int Backlog = 64;
        const int Flood = 20_000;
        var f = new TcpFixture(new TcpSettings { Backlog = Backlog });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        uint establishedIss = f.Connect(7, clientIsn: 7000, clientPort: 30000);
        var random = new Random(13);
        var syns = new List<byte[]>(Flood);
        for (int i = 0; i < Flood; i++)
        {
            // Sources spread over 198.19.0.0/16 and every port, as a spoofing flood sends them.
            var source = new Ipv4Address(0xC613_0000u | (uint)random.Next(1, 65535));
            syns.Add(From(source, (ushort)random.Next(1024, 65536), TcpFlags.Syn, (uint)random.Next(), 0, mss: 1460));
        }
        // The first Backlog SYNs take the half-open slots (and grow the table); the rest must cost nothing.
        f.Stack.AllocatedWhileInjecting(syns[..1000], rounds: 1);
        // Cookie SYNs leave no state, so a window that a collection from another test's thread voids can simply run again.
        int runs = 0;
        List<byte[]> rest = syns[1000..];
        byte[] sink = new byte[2048];
        long allocated = AllocationWindow.Measure(() =>
        {
            Inject(f, rest, sink);
            runs++;
        }, attempts: 3);
        output.WriteLine($"{Flood} SYNs: {f[StatCounter.TcpSynCookiesSent]} cookies, {f.Tcp.ConnectionsOf(0).Count} connections in the table, {allocated} B allocated after the first 1000");
        Assert.Equal(0, allocated);
        Assert.Equal(Backlog + 1, f.Tcp.ConnectionsOf(0).Count);
        Assert.Equal(1000 - Backlog + (runs * (Flood - 1000)), f[StatCounter.TcpSynCookiesSent]);

        // A real client during the flood: its SYN gets a cookie and its ACK a connection that echoes.
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 9000, 0, mss: 1460, windowScale: 7, sackPermitted: true, timestamps: new TcpTimestamps(10, 0))));
        TcpTimestamps ts = synAck.Header.Timestamps!.Value;
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 9001, synAck.Sequence + 1, window: 512, timestamps: new TcpTimestamps(11, ts.Value))));
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 9001, synAck.Sequence + 1, "during"u8, window: 512, timestamps: new TcpTimestamps(12, ts.Value)))));
        Assert.Equal("during"u8.ToArray(), echo.Payload);

        // Forged ACKs with random numbers from the flood's sources: none opens a connection, each is counted, none allocates.
        var forged = new List<byte[]>(Flood);
        for (int i = 0; i < Flood; i++)
        {
            var source = new Ipv4Address(0xC613_0000u | (uint)random.Next(1, 65535));
            forged.Add(From(source, (ushort)random.Next(1024, 65536), TcpFlags.Ack, (uint)random.Next(), (uint)random.Next()));
        }
        runs = 0;
        long forgedAllocated = AllocationWindow.Measure(() =>
        {
            Inject(f, forged, sink);
            runs++;
        }, attempts: 3);
        Assert.Equal(0, forgedAllocated);
        Assert.Equal(runs * Flood, f[StatCounter.TcpSynCookiesFailed]);
        Assert.Equal(1, f[StatCounter.TcpSynCookiesValidated]);
        Assert.Equal(Backlog + 2, f.Tcp.ConnectionsOf(0).Count);

        // The connection made before the flood still works.
        Sent old = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 7001, establishedIss + 1, "before"u8, window: 512, clientPort: 30000))));
        Assert.Equal("before"u8.ToArray(), old.Payload);

        // The half-open connections of the flood expire after their SYN-ACK retries; the table is back to the two real ones.
        for (int i = 0; i < 7; i++)
        {
            f.Clock.Advance(TimeSpan.FromSeconds(40));
            f.Stack.Stack.PollTimers(0);
            f.Stack.Link.ReadAll();
        }
        Assert.Equal(2, f.Tcp.ConnectionsOf(0).Count(c => c.State == TcpState.Established));
        Assert.Equal(0, f.Tcp.Listeners[0].HalfOpen(0));
    }

    private static void Inject(TcpFixture f, List<byte[]> frames, byte[] sink)
    {
        foreach (byte[] frame in frames)
        {
            f.Stack.Link.InjectInbound(frame);
            while (f.Stack.Link.Read(sink) >= 0)
            {
            }
        }
    }

    private static byte[] From(Ipv4Address source, ushort sourcePort, TcpFlags flags, uint sequence, uint acknowledgment, ushort? mss = null)
    {
        var header = new TcpHeader(sourcePort, 7, sequence, acknowledgment, flags, 65535) { MaxSegmentSize = mss };
        byte[] segment = new byte[header.HeaderLength];
        header.EmitWithChecksum(segment, source, Packets.StackIp);
        return Packets.Ipv4(source, Packets.StackIp, (byte)IpProtocol.Tcp, segment);
    }
}
