using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>
/// <see cref="TcpSettings.MaxConnections"/>: each established connection holds its buffers, so a worker takes no more
/// connections than its limit; what comes beyond is dropped as Linux drops SYNs when its TCP memory is spent.
/// </summary>
public class TcpConnectionLimitTests
{
    private static TcpFixture Echo(TcpSettings settings)
    {
        var f = new TcpFixture(settings);
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        return f;
    }

    [Fact]
    public void AtTheLimit_SynDroppedSilently_RoomAgainOnceOneCloses()
    {
        TcpFixture f = Echo(new TcpSettings { MaxConnections = 2 });
        uint first = f.Connect(7, clientPort: 41001);
        f.Connect(7, clientPort: 41002);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 41003)));
        Assert.Equal(1, f[StatCounter.TcpListenDrops]);
        Assert.Equal(2, f.Tcp.ConnectionsOf(0).Count);

        // The first client resets its connection: the third one's retransmitted SYN now opens.
        f.Send(Segment(7, TcpFlags.Rst, 1001, 0, clientPort: 41001));
        Assert.Single(f.Tcp.ConnectionsOf(0));
        Sent synAck = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 41003)));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.NotEqual(first, synAck.Sequence);
    }

    [Fact]
    public void TimeWaitDoesNotCount()
    {
        // An HTTP close leaves TIME_WAIT behind (no buffers); it must not keep new connections out.
        var f = new TcpFixture(new TcpSettings { MaxConnections = 1 });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80, null, new HttpResponse(200, 0))));
        uint iss = f.Connect(80, clientPort: 41001);
        Sent last = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8, window: 512, clientPort: 41001))[^1];
        uint finEnd = last.Sequence + (uint)last.Payload.Length + 1;
        f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Fin, 1001 + 46, finEnd, window: 512, clientPort: 41001));
        Assert.Equal(TcpState.TimeWait, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        f.Connect(80, clientPort: 41002);
        Assert.Equal(0, f[StatCounter.TcpListenDrops]);
    }

    [Fact]
    public void CookieAckBeyondTheLimit_DroppedWithoutReset()
    {
        TcpFixture f = Echo(new TcpSettings { MaxConnections = 1, SynCookies = TcpSynCookieMode.Always });
        Sent synAck1 = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 41001)));
        Sent synAck2 = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: 41002)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck1.Sequence + 1, clientPort: 41001)));
        Assert.Single(f.Tcp.ConnectionsOf(0));
        // The second cookie is valid, but there is no room: no connection, and no RST that would end the client's try.
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001, synAck2.Sequence + 1, clientPort: 41002)));
        Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal((1, 1), (f[StatCounter.TcpSynCookiesValidated], f[StatCounter.TcpListenDrops]));
    }

    [Fact]
    public void DefaultLimit_FromMemoryAndBufferSizes()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        int limit = new TcpSettings().ConnectionLimit(workers: 2);
        Assert.Equal((int)Math.Clamp(available / 2 / 2 / (128 * 1024), 1024, 1 << 20), limit);
        Assert.True(new TcpSettings { ReceiveBufferSize = 16 * 1024, SendBufferSize = 16 * 1024 }.ConnectionLimit(2) >= limit);
        Assert.Equal(7, new TcpSettings { MaxConnections = 7 }.ConnectionLimit(2));
    }
}
