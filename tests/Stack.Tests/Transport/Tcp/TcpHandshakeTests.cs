using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

public class TcpHandshakeTests
{
    [Fact]
    public void SynToClosedPort_RstAckWithSequenceZeroAndAckPastSyn()
    {
        var f = new TcpFixture();
        Sent rst = Assert.Single(f.Send(Segment(81, TcpFlags.Syn, 5000, 0, mss: 1460)));
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(0u, rst.Sequence);
        Assert.Equal(5001u, rst.Ack);
        Assert.Equal(81, rst.Header.SourcePort);
        Assert.Equal(ClientPort, rst.Header.DestinationPort);
        Assert.Equal(0, rst.Header.WindowSize);
        Assert.Equal(1, f[StatCounter.TcpResetsSent]);
        Assert.Equal(1, f[StatCounter.TcpNoPort]);
        // TCP has its own answer: no ICMP Port Unreachable.
        Assert.Equal(0, f[StatCounter.IcmpDestinationUnreachableSent]);
    }

    [Fact]
    public void AckToClosedPort_RstWithSequenceOfTheAck()
    {
        var f = new TcpFixture();
        Sent rst = Assert.Single(f.Send(Segment(81, TcpFlags.Ack | TcpFlags.Psh, 5000, 777, "abc"u8)));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(777u, rst.Sequence);
        Assert.Equal(0u, rst.Ack);
    }

    [Fact]
    public void FinWithDataToClosedPort_AckCountsDataAndFin()
    {
        var f = new TcpFixture();
        Sent rst = Assert.Single(f.Send(Segment(81, TcpFlags.Fin, 5000, 0, "abcd"u8)));
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(5005u, rst.Ack);
    }

    [Fact]
    public void RstToClosedPort_NoReply()
    {
        var f = new TcpFixture();
        Assert.Empty(f.Send(Segment(81, TcpFlags.Rst, 5000, 0)));
        Assert.Empty(f.Send(Segment(81, TcpFlags.Rst | TcpFlags.Ack, 5000, 10)));
        Assert.Equal(0, f[StatCounter.TcpResetsSent]);
    }

    [Fact]
    public void BadChecksum_CountedAndDropped()
    {
        var f = new TcpFixture();
        byte[] frame = Segment(81, TcpFlags.Syn, 5000, 0);
        frame[^1] ^= 0xFF;
        frame[14 + 20 + 16] ^= 0x01;
        Assert.Empty(f.Send(frame));
        Assert.Equal(1, f[StatCounter.TcpChecksumErrors]);
        Assert.Equal(0, f[StatCounter.TcpResetsSent]);
    }

    [Fact]
    public void MalformedOption_CountedAndDropped()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        // An MSS option of length 3.
        byte[] segment = new byte[24];
        new TcpHeader(ClientPort, 7, 1, 0, TcpFlags.Syn, 1000).Emit(segment);
        segment[12] = 6 << 4;
        segment[20] = 2;
        segment[21] = 3;
        ushort checksum = Checksum.Finish(Checksum.Sum(segment, PseudoHeader.Sum(Fakes.Packets.HostIp, Fakes.Packets.StackIp, IpProtocol.Tcp, segment.Length)));
        segment[16] = (byte)(checksum >> 8);
        segment[17] = (byte)checksum;
        Assert.Empty(f.Send(Fakes.Packets.Ipv4(Fakes.Packets.HostIp, Fakes.Packets.StackIp, (byte)IpProtocol.Tcp, segment)));
        Assert.Equal(1, f[StatCounter.TcpMalformedReceived]);
        Assert.Equal(0, f[StatCounter.TcpPassiveOpens]);
    }

    [Fact]
    public void Syn_SynAckNegotiatesMssScaleSackAndTimestamps()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, windowScale: 7, sackPermitted: true, timestamps: new TcpTimestamps(4242, 0))));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(1001u, synAck.Ack);
        // MTU 1500 less 40.
        Assert.Equal((ushort)1460, synAck.Header.MaxSegmentSize);
        Assert.True(synAck.Header.SackPermitted);
        Assert.Equal(4242u, synAck.Header.Timestamps!.Value.EchoReply);
        // 64 KiB needs a shift of 1; the SYN-ACK's window is not scaled.
        Assert.Equal((byte)1, synAck.Header.WindowScale);
        // Linux's tcp_select_initial_window: 64 KiB rounded down to whole segments of 1460 - 12 (timestamps).
        Assert.Equal(65160, synAck.Header.WindowSize);
        Assert.True(synAck.DontFragment);
        // Linux's ip_build_and_send_pkt: DF and Identification 0; the connection numbers its datagrams after that.
        Assert.Equal(0, synAck.Identification);
        Assert.Equal(1, f[StatCounter.TcpPassiveOpens]);
    }

    [Fact]
    public void SynWithoutOptions_SynAckOffersOnlyMss()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Assert.Equal((ushort)1460, synAck.Header.MaxSegmentSize);
        Assert.Null(synAck.Header.WindowScale);
        Assert.Null(synAck.Header.Timestamps);
        Assert.False(synAck.Header.SackPermitted);
    }

    [Fact]
    public void MssClampedToMtu()
    {
        var small = new Fakes.StackFixture(mtu: 1280);
        var tcp = Stack.Transport.Tcp.TcpProtocol.Install(small.Stack);
        Assert.Equal(StackError.None, tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        small.Link.InjectInbound(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460));
        Sent synAck = Parse(Assert.Single(small.Link.ReadAll()));
        Assert.Equal((ushort)1240, synAck.Header.MaxSegmentSize);
    }

    [Fact]
    public void SynAck_RetransmittedWithBackoffThenDropped()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent first = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460)));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(999)));
        Sent again = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(first.Sequence, again.Sequence);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, again.Flags);
        // Then 2 s, 4 s, 8 s, 16 s (five retransmissions, Linux's tcp_synack_retries), then the connection goes.
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(1999)));
        Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Single(f.Advance(TimeSpan.FromSeconds(4)));
        Assert.Single(f.Advance(TimeSpan.FromSeconds(8)));
        Assert.Single(f.Advance(TimeSpan.FromSeconds(16)));
        Assert.Empty(f.Advance(TimeSpan.FromSeconds(32)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(5, f[StatCounter.TcpSynAckRetransmits]);
        // The backlog slot came back: a new SYN is answered.
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 9000, 0)));
    }

    [Fact]
    public void RetransmittedSyn_SynAckSentAgainAtOnce()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent first = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Sent second = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Assert.Equal(first.Sequence, second.Sequence);
        Assert.Single(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public void BadAckInSynReceived_RstWithSequenceOfTheAck()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0)));
        Sent rst = Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck.Sequence + 5)));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(synAck.Sequence + 5, rst.Sequence);
    }

    [Fact]
    public void Backlog_FullDropsSyns()
    {
        var f = new TcpFixture(new Stack.Transport.Tcp.TcpSettings { Backlog = 2, SynCookies = Stack.Transport.Tcp.TcpSynCookieMode.Off });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, clientPort: 40001)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, clientPort: 40002)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, clientPort: 40003)));
        Assert.Equal(1, f[StatCounter.TcpListenDrops]);
    }

    [Fact]
    public void Isn_DiffersPerFlowAndMovesWithTheClock()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        uint a = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1, 0, clientPort: 40001))).Sequence;
        uint b = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1, 0, clientPort: 40002))).Sequence;
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void PassiveOpen_HandshakeTimesTheRtt_FirstDataRetransmittedAtThatRto()
    {
        // Linux's tcp_synack_rtt_meas: the ACK of the SYN-ACK gives the first RTT sample, so a 100 ms handshake puts
        // the RTO at 300 ms (RFC 6298 §2.2: SRTT + 4 * SRTT/2), not the initial 1 s.
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        uint iss = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460))).Sequence;
        f.Clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1)));
        var connection = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TimeSpan.FromMilliseconds(100), connection.SmoothedRtt);
        Assert.Equal(TimeSpan.FromMilliseconds(300), connection.RetransmissionTimeout);
        Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1, "hello"u8))));
        Assert.Empty(f.Advance(TimeSpan.FromMilliseconds(299)));
        Assert.Equal("hello"u8.ToArray(), Assert.Single(f.Advance(TimeSpan.FromMilliseconds(1))).Payload);
    }

    [Fact]
    public void PassiveOpen_SynAckSentTwice_NoRttSample()
    {
        // Karn: after the SYN-ACK went twice (here for a repeated SYN) its ACK cannot be timed; the RTO stays 1 s.
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        uint iss = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460))).Sequence;
        f.Clock.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460)));
        f.Clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, iss + 1)));
        var connection = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TimeSpan.Zero, connection.SmoothedRtt);
        Assert.Equal(TimeSpan.FromSeconds(1), connection.RetransmissionTimeout);
    }

    [Fact]
    public void PassiveOpen_SynAckSentTwice_WithTimestamps_TheEchoTimesIt()
    {
        // A timestamp echo names the SYN-ACK it answers, so Karn's ambiguity does not arise: Linux's
        // tcp_ack_update_rtt falls back to it when tcp_synack_rtt_meas has no clock sample.
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, timestamps: new TcpTimestamps(10, 0))));
        f.Clock.Advance(TimeSpan.FromMilliseconds(600));
        Sent again = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, timestamps: new TcpTimestamps(11, 0))));
        f.Clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, again.Sequence + 1, timestamps: new TcpTimestamps(12, again.Header.Timestamps!.Value.Value))));
        var connection = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TimeSpan.FromMilliseconds(100), connection.SmoothedRtt);
        Assert.Equal(TimeSpan.FromMilliseconds(300), connection.RetransmissionTimeout);
    }
}
