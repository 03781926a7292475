using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// RFC 2883 D-SACK as Linux sends it (net.ipv4.tcp_dsack = 1): tcp_send_dupack, tcp_data_queue, tcp_data_queue_ofo.
public class TcpDsackTests
{
    private static TcpFixture Discard()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Discard, 9)));
        return f;
    }

    [Fact]
    public void DuplicateOfDataAlreadyAcked_IsReportedOnceAsTheFirstBlock()
    {
        TcpFixture f = Discard();
        uint iss = f.Connect(9);
        Sent first = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 1001, iss + 1, new byte[100], window: 512)));
        Assert.Equal(1101u, first.Ack);
        Assert.Equal(0, first.Header.SackBlocks.Count);

        Sent dup = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 1001, iss + 1, new byte[100], window: 512)));
        Assert.Equal(1101u, dup.Ack);
        Assert.Equal(Sack((1001, 1101)), dup.Header.SackBlocks);
        Assert.Equal(1, f[StatCounter.TcpDsacksSent]);

        // Reported once: the next ACK carries no block.
        Sent next = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 1101, iss + 1, new byte[100], window: 512)));
        Assert.Equal(1201u, next.Ack);
        Assert.Equal(0, next.Header.SackBlocks.Count);
    }

    [Fact]
    public void SegmentOverlappingWhatArrived_ReportsTheRepeatedPartAndTakesTheRest()
    {
        TcpFixture f = Discard();
        uint iss = f.Connect(9);
        f.Send(Segment(9, TcpFlags.Ack, 1001, iss + 1, new byte[100], window: 512));
        Sent ack = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 1051, iss + 1, new byte[150], window: 512)));
        Assert.Equal(1201u, ack.Ack);
        Assert.Equal(Sack((1051, 1101)), ack.Header.SackBlocks);
    }

    [Fact]
    public void DuplicateOfOutOfOrderData_DsackThenTheBlockThatHoldsIt()
    {
        TcpFixture f = Discard();
        uint iss = f.Connect(9);
        Sent sack = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 2001, iss + 1, new byte[100], window: 512)));
        Assert.Equal(Sack((2001, 2101)), sack.Header.SackBlocks);
        f.Send(Segment(9, TcpFlags.Ack, 3001, iss + 1, new byte[100], window: 512));
        // RFC 2883 §4.2.3: the duplicate first, then the range it lies in (now the newest), then the others.
        Sent dup = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 2001, iss + 1, new byte[100], window: 512)));
        Assert.Equal(1001u, dup.Ack);
        Assert.Equal(Sack((2001, 2101), (2001, 2101), (3001, 3101)), dup.Header.SackBlocks);
    }

    [Fact]
    public void WithTimestamps_TheDsackTakesOneOfTheThreeBlocks()
    {
        TcpFixture f = Discard();
        uint iss = f.Connect(9, timestamps: true);
        var ts = new TcpTimestamps(200, 0);
        for (int i = 0; i < 3; i++)
            f.Send(Segment(9, TcpFlags.Ack, 2001 + (uint)(i * 1000), iss + 1, new byte[100], window: 512, timestamps: ts));
        Sent dup = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 4001, iss + 1, new byte[100], window: 512, timestamps: ts)));
        Assert.Equal(Sack((4001, 4101), (4001, 4101), (3001, 3101)), dup.Header.SackBlocks);
    }

    [Fact]
    public void WithoutSackPermitted_TheDuplicateGetsAPlainAck()
    {
        TcpFixture f = Discard();
        Sent synAck = Assert.Single(f.Send(Segment(9, TcpFlags.Syn, 1000, 0, mss: 1460)));
        f.Send(Segment(9, TcpFlags.Ack, 1001, synAck.Sequence + 1));
        f.Send(Segment(9, TcpFlags.Ack, 1001, synAck.Sequence + 1, new byte[100]));
        Sent dup = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, 1001, synAck.Sequence + 1, new byte[100])));
        Assert.Equal(1101u, dup.Ack);
        Assert.Equal(0, dup.Header.SackBlocks.Count);
        Assert.Equal(0, f[StatCounter.TcpDsacksSent]);
    }

    [Fact]
    public void DuplicateLeavesTheConnectionInQuickAckMode()
    {
        TcpFixture f = Discard();
        uint iss = f.Connect(9);
        // Leave the quick-ACK mode of the connection's start: a silence, then ping-pong is not at play for discard,
        // so use up the quick ACKs with full segments two at a time.
        uint seq = 1001;
        for (int i = 0; i < 20; i++, seq += 1460)
            f.Send(Segment(9, TcpFlags.Ack, seq, iss + 1, new byte[1460], window: 512));
        // Pauses shorter than the RTO (200 ms after the handshake's RTT sample), which would start quick-ACK mode again.
        f.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Empty(f.Send(Segment(9, TcpFlags.Ack, seq, iss + 1, new byte[100], window: 512)));
        seq += 100;
        f.Advance(TimeSpan.FromMilliseconds(100));
        Sent dup = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, seq - 100, iss + 1, new byte[100], window: 512)));
        Assert.Equal(Sack((seq - 100, seq)), dup.Header.SackBlocks);
        // Linux's tcp_send_dupack enters quick-ACK mode: the next small segment is ACKed at once.
        Sent next = Assert.Single(f.Send(Segment(9, TcpFlags.Ack, seq, iss + 1, new byte[100], window: 512)));
        Assert.Equal(seq + 100, next.Ack);
    }
}
