using XdpStack.Stack.Tests.Fakes;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpActiveOpenTests;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>The application API off the worker (<see cref="TcpSocket"/>, <see cref="TcpSocketListener"/>) over the in-memory link; the test thread plays the worker.</summary>
public class TcpSocketTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    // An established client socket: the peer answered without timestamps, advertising window.
    private static async Task<(TcpFixture F, TcpSocket Socket, Sent Syn)> Established(TcpSettings? settings = null, ushort window = 65535)
    {
        TcpFixture f = Fixture(settings);
        (ValueTask<TcpSocket> connect, Sent syn) = StartConnect(f);
        Assert.Single(f.Send(FromPeer(syn, TcpFlags.Syn | TcpFlags.Ack, PeerIsn, syn.Sequence + 1, mss: 1460, windowScale: null, sackPermitted: false, window: window)));
        TcpSocket socket = await connect.AsTask().WaitAsync(s_wait);
        return (f, socket, syn);
    }

    private static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Socket_WriteReadShutdownClose_BothWays()
    {
        (TcpFixture f, TcpSocket socket, Sent syn) = await Established();
        uint iss = syn.Sequence;
        byte[] data = Pattern(3000, 1);

        Task write = socket.WriteAsync(data).AsTask();
        f.Stack.Stack.PollTimers(0);
        await write.WaitAsync(s_wait);
        List<Sent> sent = f.Drain();
        Assert.Equal(data, sent.SelectMany(s => s.Payload).ToArray());
        Assert.Equal(iss + 1, sent[0].Sequence);

        // The peer ACKs it and answers; then closes its side.
        byte[] answer = Pattern(500, 2);
        f.Send(FromPeer(syn, TcpFlags.Ack | TcpFlags.Psh, PeerIsn + 1, iss + 1 + 3000, answer, mss: null, windowScale: null, sackPermitted: false));
        byte[] buffer = new byte[4096];
        int n = await socket.ReadAsync(buffer).AsTask().WaitAsync(s_wait);
        Assert.Equal(answer, buffer[..n]);
        f.Send(FromPeer(syn, TcpFlags.Ack | TcpFlags.Fin, PeerIsn + 501, iss + 1 + 3000, mss: null, windowScale: null, sackPermitted: false));
        Assert.Equal(0, await socket.ReadAsync(buffer).AsTask().WaitAsync(s_wait));

        // Our close: FIN from CLOSE_WAIT, LAST_ACK, and CLOSED at the peer's ACK.
        Task close = socket.CloseAsync().AsTask();
        f.Stack.Stack.PollTimers(0);
        Sent fin = Assert.Single(f.Drain(), s => (s.Flags & TcpFlags.Fin) != 0);
        Assert.Equal(iss + 1 + 3000, fin.Sequence);
        Assert.Equal(PeerIsn + 502, fin.Ack);
        Assert.False(close.IsCompleted);
        f.Send(FromPeer(syn, TcpFlags.Ack, PeerIsn + 502, iss + 3002, mss: null, windowScale: null, sackPermitted: false));
        await close.WaitAsync(s_wait);
        Assert.True(socket.Ended);
        Assert.Equal(TcpError.None, socket.Error);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public async Task Shutdown_FinWait2LastsUntilThePeersFin_CloseThenEndsItAfterTheTimeout()
    {
        // Linux's tcp_fin_timeout holds only orphans: after shutdown() FIN_WAIT_2 waits for the peer as long as
        // it takes; a close() then gives it 60 s (tcp_close in FIN_WAIT_2).
        (TcpFixture f, TcpSocket socket, Sent syn) = await Established();
        uint iss = syn.Sequence;
        Task shutdown = socket.ShutdownAsync().AsTask();
        f.Stack.Stack.PollTimers(0);
        Sent fin = Assert.Single(f.Drain(), s => (s.Flags & TcpFlags.Fin) != 0);
        await shutdown.WaitAsync(s_wait);
        List<Sent> afterFinAck = f.Send(FromPeer(syn, TcpFlags.Ack, PeerIsn + 1, fin.Sequence + 1, mss: null, windowScale: null, sackPermitted: false));
        Assert.True(afterFinAck.Count == 0, string.Join("; ", afterFinAck.Select(s => $"{s.Flags} seq {s.Sequence - iss} ack {s.Ack - PeerIsn} len {s.Payload.Length}")));
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpState.FinWait2, c.State);
        f.Advance(TimeSpan.FromSeconds(300));
        Assert.Equal(TcpState.FinWait2, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        // The peer still sends, and the application still reads.
        f.Send(FromPeer(syn, TcpFlags.Ack | TcpFlags.Psh, PeerIsn + 1, fin.Sequence + 1, "late"u8, mss: null, windowScale: null, sackPermitted: false));
        byte[] buffer = new byte[16];
        Assert.Equal(4, await socket.ReadAsync(buffer).AsTask().WaitAsync(s_wait));

        Task close = socket.CloseAsync().AsTask();
        f.Stack.Stack.PollTimers(0);
        f.Drain();
        f.Advance(TimeSpan.FromSeconds(59));
        Assert.Single(f.Tcp.ConnectionsOf(0));
        f.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
        await close.WaitAsync(s_wait);
        Assert.Equal(iss + 1, fin.Sequence);
    }

    [Fact]
    public async Task Socket_Write_CompletesOnlyWhenTheSendBufferTookIt()
    {
        // 4 KiB of send buffer and 4 KiB of pipe; the peer's window is 1000 octets.
        (TcpFixture f, TcpSocket socket, Sent syn) = await Established(new TcpSettings { SendBufferSize = 4096, ReceiveBufferSize = 4096 }, window: 1000);
        byte[] data = Pattern(20_000, 3);

        Task write = socket.WriteAsync(data).AsTask();
        var received = new List<byte>();
        int rounds = 0;
        while (received.Count < data.Length && rounds++ < 1000)
        {
            f.Stack.Stack.PollTimers(0);
            foreach (Sent s in f.Drain())
                received.AddRange(s.Payload);
            // 8 KiB at most sit in the pipe and the send buffer: the write cannot have completed before the peer took 12 KiB.
            if (received.Count < data.Length - 8192)
                Assert.False(write.IsCompleted, $"the write completed with {received.Count} octets delivered");
            foreach (Sent s in f.Send(FromPeer(syn, TcpFlags.Ack, PeerIsn + 1, syn.Sequence + 1 + (uint)received.Count, mss: null, windowScale: null, sackPermitted: false, window: 1000)))
                received.AddRange(s.Payload);
            await Task.Delay(1);
        }
        await write.WaitAsync(s_wait);
        Assert.Equal(data, received.ToArray());
    }

    [Fact]
    public async Task Socket_ReaderAndWriterBothParked_DataWakesTheReader()
    {
        // The writer parks first (a 4 KiB send buffer behind a 1000-octet window), then the reader; data for the reader
        // must wake it even though the writer parked on the same socket first. (When the two shared one waiter, the
        // reader was left parked only in some interleavings: this passed then too; the root echo test in
        // PacketSocketTcpClientTests stalled in about half its runs.)
        (TcpFixture f, TcpSocket socket, Sent syn) = await Established(new TcpSettings { SendBufferSize = 4096 }, window: 1000);
        Task write = socket.WriteAsync(Pattern(70_000, 5)).AsTask();
        f.Stack.Stack.PollTimers(0);
        byte[] buffer = new byte[100];
        Task<int> read = socket.ReadAsync(buffer).AsTask();
        await Task.Delay(50);
        Assert.False(read.IsCompleted);

        f.Send(FromPeer(syn, TcpFlags.Ack | TcpFlags.Psh, PeerIsn + 1, syn.Sequence + 1, "data"u8.ToArray(), mss: null, windowScale: null, sackPermitted: false, window: 0));

        Assert.Equal(4, await read.WaitAsync(s_wait));
        Assert.Equal("data"u8.ToArray(), buffer[..4]);
        Assert.False(write.IsCompleted);
    }

    [Fact]
    public async Task Socket_PeerResets_ReadThrowsReset()
    {
        (TcpFixture f, TcpSocket socket, Sent syn) = await Established();

        f.Send(FromPeer(syn, TcpFlags.Rst, PeerIsn + 1, 0, mss: null, windowScale: null, sackPermitted: false));

        var error = await Assert.ThrowsAsync<TcpSocketException>(() => socket.ReadAsync(new byte[16]).AsTask().WaitAsync(s_wait));
        Assert.Equal(TcpError.ConnectionReset, error.Error);
        await Assert.ThrowsAsync<TcpSocketException>(() => socket.WriteAsync(new byte[16]).AsTask().WaitAsync(s_wait));
    }

    [Fact]
    public async Task Socket_Abort_SendsRstAndEnds()
    {
        (TcpFixture f, TcpSocket socket, Sent syn) = await Established();

        Task abort = socket.AbortAsync().AsTask();
        f.Stack.Stack.PollTimers(0);
        await abort.WaitAsync(s_wait);

        Sent rst = Assert.Single(f.Drain());
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(syn.Sequence + 1, rst.Sequence);
        Assert.Equal(TcpError.Aborted, socket.Error);
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public async Task Listener_Accept_ReadsWhatTheClientSent()
    {
        TcpFixture f = Fixture();
        Assert.Equal(StackError.None, f.Tcp.ListenSockets(9000, null, out TcpSocketListener? listener));
        Task<TcpSocket> accept = listener!.AcceptAsync().AsTask();

        uint iss = f.Connect(9000);
        f.Send(Segment(9000, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "ping"u8.ToArray(), window: 512));

        TcpSocket socket = await accept.WaitAsync(s_wait);
        Assert.Equal(ClientPort, socket.RemotePort);
        byte[] buffer = new byte[16];
        int n = await socket.ReadAsync(buffer).AsTask().WaitAsync(s_wait);
        Assert.Equal("ping"u8.ToArray(), buffer[..n]);
        Task write = socket.WriteAsync("pong"u8.ToArray()).AsTask();
        f.Stack.Stack.PollTimers(0);
        await write.WaitAsync(s_wait);
        Sent pong = Assert.Single(f.Drain(), s => s.Payload.Length > 0);
        Assert.Equal("pong"u8.ToArray(), pong.Payload);
    }

    [Fact]
    public async Task Socket_EstablishedPath_DataInAndAcksIn_AllocatesNothing()
    {
        // A 4 KiB send buffer: most of what the application wrote waits in the outbound pipe, and each ACK moves more in.
        (TcpFixture f, TcpSocket socket, Sent syn) = await Established(new TcpSettings { SendBufferSize = 4096 }, window: 2920);
        uint iss = syn.Sequence;
        const int Rounds = 200;
        const int Size = 100;
        // The application has 40 kB queued behind a two-segment window and does not read: every ACK below lets 100 more
        // out and every segment's data moves into the inbound pipe, through the socket's worker side.
        Task write = socket.WriteAsync(Pattern(20_000 + (Rounds * Size), 4)).AsTask();
        f.Stack.Stack.PollTimers(0);
        int sent = f.Drain().Sum(s => s.Payload.Length);
        Assert.Equal(2920, sent);
        // Warm-up: the first segment's path (JIT) before the window.
        f.Send(FromPeer(syn, TcpFlags.Ack, PeerIsn + 1, iss + 1 + Size, new byte[Size], mss: null, windowScale: null, sackPermitted: false, window: 2920));
        var frames = new List<byte[]>();
        for (int i = 1; i <= Rounds; i++)
        {
            frames.Add(FromPeer(syn, TcpFlags.Ack | TcpFlags.Psh, PeerIsn + 1 + (uint)(i * Size), iss + 1 + (uint)((i + 1) * Size), new byte[Size],
                mss: null, windowScale: null, sackPermitted: false, window: 2920));
        }
        long bytesBefore = f[StatCounter.TcpBytesSent];

        long allocated = f.Stack.AllocatedWhileInjecting(frames, rounds: 1);

        Assert.Equal(0, allocated);
        Assert.Equal((Rounds + 1) * Size, socket.Available);
        Assert.True(f[StatCounter.TcpBytesSent] - bytesBefore >= (Rounds * Size) - 2920, "the ACKs let data out");
        // The writer is still parked: what it wrote is not all in the send buffer yet.
        Assert.False(write.IsCompleted);
    }
}
