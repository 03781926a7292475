using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpActiveOpenTests;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// A close that loses data, as Linux's tcp_close (RFC 2525 §2.17) and tcp_rcv_state_process (RFC 1122 §4.2.2.13): received
// octets left unread turn the FIN into a RST, and new data for a closed application draws <SEQ=SEG.ACK><CTL=RST>.
public class TcpCloseWithDataTests
{
    private const ushort Port = 7000;
    private const uint ClientIsn = 1000;

    // Closes each connection as soon as anything arrives; consumes what came first when told to.
    private sealed class CloseOnData(bool consumeFirst, bool shutdownOnly = false) : ITcpApplication
    {
        public void OnEstablished(TcpConnection connection)
        {
        }

        public void OnReceive(TcpConnection connection)
        {
            if (connection.Closing || connection.Available == 0)
            {
                if (shutdownOnly)
                    connection.Consume(connection.Available);
                return;
            }
            if (consumeFirst)
                connection.Consume(connection.Available);
            if (shutdownOnly)
                connection.Shutdown();
            else
                connection.Close();
        }
    }

    private static (TcpFixture F, uint Iss) Open(ITcpApplication application)
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.Listen(Port, null, application, out _));
        return (f, f.Connect(Port, ClientIsn));
    }

    [Fact]
    public void CloseWithUnreadData_SendsRstAtSndNxt_AndTheConnectionEnds()
    {
        (TcpFixture f, uint iss) = Open(new CloseOnData(consumeFirst: false));

        List<Sent> sent = f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Psh, ClientIsn + 1, iss + 1, "unread"u8, window: 512));

        // The quick ACK goes before the application runs, as from Linux's receive path; then the close's RST.
        Sent rst = Assert.Single(AfterAck(sent));
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(iss + 1, rst.Sequence);
        Assert.Equal(ClientIsn + 1 + 6, rst.Ack);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpAbortOnClose]);
        Assert.Equal(1, f[StatCounter.TcpConnectionsReset]);
        Assert.Equal(1, f[StatCounter.TcpResetsSent]);
    }

    [Fact]
    public void CloseAfterConsumingEverything_SendsAFin()
    {
        (TcpFixture f, uint iss) = Open(new CloseOnData(consumeFirst: true));

        List<Sent> sent = f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Psh, ClientIsn + 1, iss + 1, "read"u8, window: 512));

        Sent fin = Assert.Single(sent, s => (s.Flags & TcpFlags.Fin) != 0);
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, fin.Flags);
        Assert.DoesNotContain(sent, s => (s.Flags & TcpFlags.Rst) != 0);
        Assert.Equal(TcpState.FinWait1, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Assert.Equal(0, f[StatCounter.TcpAbortOnClose]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NewDataAfterTheClose_InFinWait1Or2_DrawsRstAtItsAck(bool finAcked)
    {
        (TcpFixture f, uint iss) = Open(new CloseOnData(consumeFirst: true));
        f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Psh, ClientIsn + 1, iss + 1, "first"u8, window: 512));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        uint ack = finAcked ? iss + 2 : iss + 1;
        if (finAcked)
        {
            Assert.Empty(f.Send(Segment(Port, TcpFlags.Ack, ClientIsn + 6, ack, window: 512)));
            Assert.Equal(TcpState.FinWait2, c.State);
        }

        List<Sent> sent = f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Psh, ClientIsn + 6, ack, "more"u8, window: 512));

        Sent rst = Assert.Single(sent);
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(ack, rst.Sequence);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpAbortOnData]);
        Assert.Equal(0, f[StatCounter.TcpAbortOnClose]);
    }

    [Fact]
    public void AfterTheClose_AnOldRetransmissionGetsAnAck_AndAPureFinClosesInOrder()
    {
        (TcpFixture f, uint iss) = Open(new CloseOnData(consumeFirst: true));
        f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Psh, ClientIsn + 1, iss + 1, "first"u8, window: 512));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));

        // Linux's test is after(end_seq - fin, rcv_nxt): what was delivered before the close is no new data.
        Sent dup = Assert.Single(f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Psh, ClientIsn + 1, iss + 2, "first"u8, window: 512)));
        Assert.Equal(TcpFlags.Ack, dup.Flags);
        Assert.Equal(ClientIsn + 6, dup.Ack);
        Assert.Equal(TcpState.FinWait2, c.State);

        Sent finAck = Assert.Single(f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Fin, ClientIsn + 6, iss + 2, window: 512)));
        Assert.Equal(TcpFlags.Ack, finAck.Flags);
        Assert.Equal(ClientIsn + 7, finAck.Ack);
        Assert.Equal(TcpState.TimeWait, c.State);
        Assert.Equal(0, f[StatCounter.TcpAbortOnData]);
    }

    [Fact]
    public void AfterAShutdownOnly_DataIsStillTaken()
    {
        (TcpFixture f, uint iss) = Open(new CloseOnData(consumeFirst: true, shutdownOnly: true));
        f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Psh, ClientIsn + 1, iss + 1, "first"u8, window: 512));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpState.FinWait1, c.State);

        List<Sent> sent = f.Send(Segment(Port, TcpFlags.Ack | TcpFlags.Psh, ClientIsn + 6, iss + 2, "more"u8, window: 512));

        Assert.DoesNotContain(sent, s => (s.Flags & TcpFlags.Rst) != 0);
        Assert.Equal(TcpState.FinWait2, c.State);
        Assert.Equal(0, f[StatCounter.TcpAbortOnData]);
    }

    [Fact]
    public async Task Socket_CloseWithUnreadData_SendsRst()
    {
        TcpFixture f = Fixture();
        (ValueTask<TcpSocket> connect, Sent syn) = StartConnect(f);
        f.Send(FromPeer(syn, TcpFlags.Syn | TcpFlags.Ack, PeerIsn, syn.Sequence + 1, mss: 1460, windowScale: null, sackPermitted: false));
        TcpSocket socket = await connect.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        f.Send(FromPeer(syn, TcpFlags.Ack | TcpFlags.Psh, PeerIsn + 1, syn.Sequence + 1, "never read"u8, mss: null, windowScale: null, sackPermitted: false));

        Task close = socket.CloseAsync().AsTask();
        f.Stack.Stack.PollTimers(0);
        await close.WaitAsync(TimeSpan.FromSeconds(10));

        Sent rst = Assert.Single(f.Drain(), s => (s.Flags & TcpFlags.Rst) != 0);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(syn.Sequence + 1, rst.Sequence);
        Assert.Equal(TcpError.Aborted, socket.Error);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpAbortOnClose]);
    }

    [Fact]
    public async Task Socket_CloseAfterReadingEverything_SendsFin_ThenNewDataDrawsRst()
    {
        TcpFixture f = Fixture();
        (ValueTask<TcpSocket> connect, Sent syn) = StartConnect(f);
        f.Send(FromPeer(syn, TcpFlags.Syn | TcpFlags.Ack, PeerIsn, syn.Sequence + 1, mss: 1460, windowScale: null, sackPermitted: false));
        TcpSocket socket = await connect.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        f.Send(FromPeer(syn, TcpFlags.Ack | TcpFlags.Psh, PeerIsn + 1, syn.Sequence + 1, "read"u8, mss: null, windowScale: null, sackPermitted: false));
        byte[] buffer = new byte[16];
        Assert.Equal(4, await socket.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Task close = socket.CloseAsync().AsTask();
        f.Stack.Stack.PollTimers(0);
        Sent fin = Assert.Single(f.Drain(), s => (s.Flags & TcpFlags.Fin) != 0);
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, fin.Flags);

        Sent rst = Assert.Single(f.Send(FromPeer(syn, TcpFlags.Ack | TcpFlags.Psh, PeerIsn + 5, fin.Sequence + 1, "late"u8, mss: null, windowScale: null, sackPermitted: false)));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(fin.Sequence + 1, rst.Sequence);
        await close.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, f[StatCounter.TcpAbortOnData]);
    }
    [Fact]
    public async Task Socket_DataWhileTheCloseStillMovesWhatWasWritten_DrawsRst()
    {
        // The peer's window is shut, so most of a 100 KB write waits in the socket's pipe behind the send buffer: the
        // close is asked for, but the connection is not yet the orphan that answers new data itself.
        TcpFixture f = Fixture();
        (ValueTask<TcpSocket> connect, Sent syn) = StartConnect(f);
        f.Send(FromPeer(syn, TcpFlags.Syn | TcpFlags.Ack, PeerIsn, syn.Sequence + 1, mss: 1460, windowScale: null, sackPermitted: false, window: 0));
        TcpSocket socket = await connect.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Task write = socket.WriteAsync(new byte[100_000]).AsTask();
        // The worker moves what fits into the send buffer; the writer then puts the rest in the pipe, where it stays.
        for (int i = 0; i < 10; i++)
        {
            f.Stack.Stack.PollTimers(0);
            await Task.Delay(10);
        }
        Task close = socket.CloseAsync().AsTask();
        f.Stack.Stack.PollTimers(0);
        f.Drain();
        Assert.False(close.IsCompleted);

        List<Sent> sent = f.Send(FromPeer(syn, TcpFlags.Ack | TcpFlags.Psh, PeerIsn + 1, syn.Sequence + 1, "late"u8, mss: null, windowScale: null, sackPermitted: false, window: 0));

        Sent rst = Assert.Single(sent, s => (s.Flags & TcpFlags.Rst) != 0);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        // The close and the write still waiting both end: the close, and the write with the reset.
        await close.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TcpError.Aborted, socket.Error);
        await Assert.ThrowsAsync<TcpSocketException>(() => write.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        Assert.Equal(1, f[StatCounter.TcpAbortOnData]);
    }
}
