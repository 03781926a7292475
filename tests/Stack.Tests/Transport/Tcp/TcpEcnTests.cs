using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// RFC 3168 ECN as Linux with net.ipv4.tcp_ecn = 2 (the default): accepted when a peer asks, never asked for.
public class TcpEcnTests
{
    private const byte NotEct = 0;
    private const byte Ect0 = 2;
    private const byte Ce = 3;

    private static TcpFixture Service(TcpServiceKind kind, ushort port, TcpSettings? settings = null)
    {
        var f = new TcpFixture(settings);
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(kind, port)));
        return f;
    }

    // A Linux client with net.ipv4.tcp_ecn = 1: SYN with ECE and CWR, Not-ECT. Returns the server's ISN.
    private static uint ConnectWithEcn(TcpFixture f, ushort port, bool timestamps = false)
    {
        Sent synAck = Assert.Single(f.Send(Segment(port, TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr, 1000, 0, mss: 1460, windowScale: 7,
            sackPermitted: true, timestamps: timestamps ? new TcpTimestamps(100, 0) : null)));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Ece, synAck.Flags);
        Assert.Equal(NotEct, synAck.Ecn);
        Assert.Empty(f.Send(Segment(port, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512,
            timestamps: timestamps ? new TcpTimestamps(101, synAck.Header.Timestamps!.Value.Value) : null)));
        Assert.True(Assert.Single(f.Tcp.ConnectionsOf(0)).EcnEnabled);
        return synAck.Sequence;
    }

    [Fact]
    public void SynWithEceAndCwr_GetsEceInTheSynAck()
    {
        TcpFixture f = Service(TcpServiceKind.Echo, 7);
        ConnectWithEcn(f, 7);
    }

    [Fact]
    public void SynThatDoesNotAskProperly_GetsNoEcn()
    {
        foreach (byte[] syn in new[]
        {
            Segment(7, TcpFlags.Syn | TcpFlags.Ece, 1000, 0, mss: 1460),
            Segment(7, TcpFlags.Syn | TcpFlags.Cwr, 1000, 0, mss: 1460),
            // RFC 3168 §6.1.1: a SYN must not be ECN-capable; Linux refuses ECN to one that is.
            WithEcn(Segment(7, TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr, 1000, 0, mss: 1460), Ect0),
        })
        {
            TcpFixture f = Service(TcpServiceKind.Echo, 7);
            Sent synAck = Assert.Single(f.Send(syn));
            Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
            f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, window: 512));
            TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
            Assert.False(c.EcnEnabled);
            Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, synAck.Sequence + 1, "hi"u8, window: 512))));
            Assert.Equal(NotEct, echo.Ecn);
        }
    }

    [Fact]
    public void DataWithCwr_AckedBeforeTheAnswerEvenInPingPongMode()
    {
        // Linux's tcp_ecn_accept_cwr: the sender that cut its window may be down to one segment, so data carrying CWR
        // is ACKed at once (ICSK_ACK_NOW), ahead of the echo, where ping-pong mode would let the echo carry the ACK.
        TcpFixture f = Service(TcpServiceKind.Echo, 7);
        uint iss = ConnectWithEcn(f, 7);
        Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "one"u8, window: 512))));
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1004, iss + 4, "two"u8, window: 512)));
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Cwr, 1007, iss + 7, "three"u8, window: 512))));
        Assert.Equal("three"u8.ToArray(), echo.Payload);
    }

    [Fact]
    public void NewDataLeavesEct0_AcksAndRetransmissionsNotEct()
    {
        // The retransmission timer's segment, not a tail loss probe's.
        TcpFixture f = Service(TcpServiceKind.Echo, 7, new TcpSettings { LossProbes = false });
        uint iss = ConnectWithEcn(f, 7);
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "hello"u8, window: 512))));
        Assert.Equal("hello"u8.ToArray(), echo.Payload);
        Assert.Equal(Ect0, echo.Ecn);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, echo.Flags);

        Sent retransmission = Assert.Single(f.Advance(TimeSpan.FromSeconds(1.1)));
        Assert.Equal(echo.Sequence, retransmission.Sequence);
        Assert.Equal(NotEct, retransmission.Ecn);
        // The timeout cut the window: the next new data segment says so with CWR.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1006, iss + 6, window: 512)));
        Sent more = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1006, iss + 6, "again"u8, window: 512)));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Cwr, more.Flags);
        Assert.Equal(Ect0, more.Ecn);
    }

    [Fact]
    public void CongestionExperienced_IsEchoedUntilThePeersCwr()
    {
        TcpFixture f = Service(TcpServiceKind.Discard, 9);
        uint iss = ConnectWithEcn(f, 9);
        Sent a = Assert.Single(f.Send(WithEcn(Segment(9, TcpFlags.Ack, 1001, iss + 1, new byte[100], window: 512), Ce)));
        Assert.Equal(1101u, a.Ack);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Ece, a.Flags);
        Assert.Equal(NotEct, a.Ecn);
        Assert.Equal(1, f[StatCounter.TcpEcnCongestionExperienced]);

        // ECE stays on every segment until the sender's CWR, even on ACKs of unmarked data.
        Sent b = Assert.Single(f.Send(WithEcn(Segment(9, TcpFlags.Ack, 1101, iss + 1, new byte[100], window: 512), Ect0)));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Ece, b.Flags);
        // A bare ACK with CWR takes no sequence space: Linux does not look at its CWR.
        Assert.Empty(f.Send(Segment(9, TcpFlags.Ack | TcpFlags.Cwr, 1201, iss + 1, window: 512)));
        Sent c = Assert.Single(f.Send(WithEcn(Segment(9, TcpFlags.Ack | TcpFlags.Cwr, 1201, iss + 1, new byte[100], window: 512), Ect0)));
        Assert.Equal(1301u, c.Ack);
        Assert.Equal(TcpFlags.Ack, c.Flags);
        Assert.Equal(1, f[StatCounter.TcpEcnCongestionExperienced]);
    }

    [Fact]
    public void CongestionExperienced_WithoutEcnNegotiated_IsNotEchoed()
    {
        TcpFixture f = Service(TcpServiceKind.Discard, 9);
        uint iss = f.Connect(9);
        Sent a = Assert.Single(f.Send(WithEcn(Segment(9, TcpFlags.Ack, 1001, iss + 1, new byte[100], window: 512), Ce)));
        Assert.Equal(TcpFlags.Ack, a.Flags);
        Assert.Equal(0, f[StatCounter.TcpEcnCongestionExperienced]);
    }

    [Fact]
    public void EcnEcho_CutsTheWindowOncePerWindowAndTheNextNewDataCarriesCwr()
    {
        TcpFixture f = Service(TcpServiceKind.Echo, 7);
        uint iss = ConnectWithEcn(f, 7);
        // Five full segments echoed: 7,300 octets in flight.
        List<Sent> echoed = AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, new byte[7300], window: 512)));
        Assert.Equal(5, echoed.Count);
        Assert.All(echoed, s => Assert.Equal(Ect0, s.Ecn));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        int before = c.CongestionWindow;

        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Ece, 8301, iss + 1 + 1460, window: 512)));
        Assert.Equal(1, f[StatCounter.TcpEcnWindowReductions]);
        // ssthresh is β_cubic of cwnd (7 of 10 segments); PRR (RFC 6937, Linux's tcp_cwnd_reduction) then sets cwnd on
        // every ACK: with four segments still out, below ssthresh, as many as were delivered (one) and one more since
        // SND.UNA moved: pipe + 2 segments.
        Assert.Equal(7 * 1460, c.SlowStartThreshold);
        Assert.Equal(4 * 1460 + 2 * 1460, c.CongestionWindow);
        Assert.True(c.CongestionWindow < before, $"cwnd {c.CongestionWindow} not below {before}");

        // More ECEs for the same window of data cut nothing again; PRR goes on: two delivered in all, none sent, plus
        // one: three over the three still out.
        f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Ece, 8301, iss + 1 + 2920, window: 512));
        Assert.Equal(1, f[StatCounter.TcpEcnWindowReductions]);
        Assert.Equal(7 * 1460, c.SlowStartThreshold);
        Assert.Equal(3 * 1460 + 3 * 1460, c.CongestionWindow);

        // The first new data segment after the cut carries CWR; the ones after it do not.
        Sent first = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 8301, iss + 1 + 2920, "x"u8, window: 512)));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Cwr, first.Flags);
        Assert.Equal(Ect0, first.Ecn);
        Sent second = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 8302, iss + 1 + 2920, "y"u8, window: 512)));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, second.Flags);

        // Once the peer has acknowledged past what was in flight at the cut, an ECE cuts again.
        f.Send(Segment(7, TcpFlags.Ack, 8303, iss + 1 + 7302, window: 512));
        f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 8303, iss + 1 + 7302, "z"u8, window: 512));
        f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Ece, 8304, iss + 1 + 7303, window: 512));
        Assert.Equal(2, f[StatCounter.TcpEcnWindowReductions]);
    }

    [Fact]
    public void SynCookie_CarriesEcnInTheTimestamp()
    {
        var settings = new TcpSettings { SynCookies = TcpSynCookieMode.Always };
        TcpFixture f = Service(TcpServiceKind.Echo, 7, settings);
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr, 1000, 0, mss: 1460,
            sackPermitted: true, timestamps: new TcpTimestamps(100, 0))));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Ece, synAck.Flags);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 1, timestamps: new TcpTimestamps(101, synAck.Header.Timestamps!.Value.Value)));
        Assert.True(Assert.Single(f.Tcp.ConnectionsOf(0)).EcnEnabled);

        // Without timestamps the cookie has nowhere to keep it: no ECN, as in Linux.
        TcpFixture g = Service(TcpServiceKind.Echo, 7, settings);
        Sent plain = Assert.Single(g.Send(Segment(7, TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr, 1000, 0, mss: 1460)));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, plain.Flags);
        g.Send(Segment(7, TcpFlags.Ack, 1001, plain.Sequence + 1));
        Assert.False(Assert.Single(g.Tcp.ConnectionsOf(0)).EcnEnabled);
    }
}
