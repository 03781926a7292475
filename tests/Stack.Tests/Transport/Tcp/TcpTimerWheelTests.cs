using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

/// <summary>The worker's timing wheel (<see cref="TcpTimerWheel"/>): deadlines past one turn of the wheel, long pauses between polls, and lateness of at most a millisecond.</summary>
public class TcpTimerWheelTests
{
    private static readonly TimeSpan TwoMsl = new TcpSettings().TimeWait;

    // One HTTP connection closed by the server after its response, the client's FIN acknowledged: TIME_WAIT from now.
    private static void CloseOne(TcpFixture f, ushort clientPort)
    {
        Sent synAck = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: clientPort)));
        uint iss = synAck.Sequence;
        f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, window: 512, clientPort: clientPort));
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8, window: 512, clientPort: clientPort));
        uint finEnd = sent[^1].Sequence + (uint)sent[^1].Payload.Length + 1;
        f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Fin, 1047, finEnd, window: 512, clientPort: clientPort));
        Assert.Equal(TcpState.TimeWait, f.Tcp.ConnectionsOf(0).Single(c => c.RemotePort == clientPort).State);
    }

    // One request answered: the answer follows the request at once, so the connection is in Linux's ping-pong mode
    // and its next ACK waits for an answer to ride on (else the delayed-ACK timer). Returns the next sequence number.
    private static uint Answered(TcpFixture f, uint iss, ushort clientPort = TcpFixture.ClientPort)
    {
        byte[] request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();
        Assert.Contains(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, request, window: 512, clientPort: clientPort)), s => s.Payload.Length > 0);
        return 1001 + (uint)request.Length;
    }

    private static TcpFixture Http()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80)));
        return f;
    }

    [Fact]
    public void TimeWait_ClosesSpreadOverTwoTurns_EachEndsAtTwoMslAtMostAMillisecondLate()
    {
        TcpFixture f = Http();
        var closedAt = new List<TimeSpan>();
        // 200 closes 37 ms apart: 7.4 s, nearly two turns of the 4.1 s wheel, so slots hold deadlines of later turns.
        for (int i = 0; i < 200; i++)
        {
            CloseOne(f, (ushort)(40000 + i));
            closedAt.Add(f.Clock.Now);
            f.Advance(TimeSpan.FromMilliseconds(37));
        }
        TimeSpan end = closedAt[^1] + TwoMsl + TimeSpan.FromMilliseconds(5);
        while (f.Clock.Now < end)
        {
            f.Advance(TimeSpan.FromMilliseconds(1));
            TimeSpan now = f.Clock.Now;
            int mustStay = closedAt.Count(c => c + TwoMsl > now);
            int mayStay = closedAt.Count(c => c + TwoMsl + TimeSpan.FromMilliseconds(1) > now);
            int left = f.Tcp.ConnectionsOf(0).Count;
            Assert.True(left >= mustStay && left <= mayStay, $"at {now}: {left} connections, expected {mustStay} to {mayStay}");
        }
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public void Poll_AfterAPauseLongerThanTheWheel_EveryDueTimerFires()
    {
        TcpFixture f = Http();
        for (int i = 0; i < 100; i++)
        {
            CloseOne(f, (ushort)(41000 + i));
            f.Advance(TimeSpan.FromMilliseconds(13));
        }
        // The first closed 1.3 s ago: 58 s on, none has had its 60.
        f.Advance(TimeSpan.FromSeconds(58));
        Assert.Equal(100, f.Tcp.ConnectionsOf(0).Count);
        // One poll after 3 more seconds: each slot is visited once and everything due is released.
        f.Advance(TimeSpan.FromSeconds(3));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public void DelayedAck_DeadlineBeforeAFarOne_FiresOnTime()
    {
        TcpFixture f = Http();
        // A connection in TIME_WAIT files a far deadline; a new connection's delayed ACK must not wait behind it.
        CloseOne(f, 42000);
        uint iss = f.Connect(80, clientPort: 42001);
        uint seq = Answered(f, iss, 42001);
        Assert.Empty(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Psh, seq, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\n"u8, window: 512, clientPort: 42001)));
        TimeSpan delay = new TcpSettings().DelayedAck;
        Assert.Empty(f.Advance(delay - TimeSpan.FromMilliseconds(2)));
        Sent ack = Assert.Single(f.Advance(TimeSpan.FromMilliseconds(3)));
        Assert.Equal(TcpFlags.Ack, ack.Header.Flags);
        Assert.Equal(seq + 25, ack.Header.AcknowledgmentNumber);
    }

    [Fact]
    public void Poll_EarlierInTheDeadlinesMillisecond_FiresAtTheNextPollNotATurnLater()
    {
        TcpFixture f = Http();
        uint iss = f.Connect(80);
        uint seq = Answered(f, iss);
        // Data at 600 µs into a millisecond: the delayed ACK falls due 600 µs into a later one.
        long intoMs = f.Clock.Now.Ticks / 10 % 1000;
        f.Advance(TimeSpan.FromTicks((1600 - intoMs) % 1000 * 10));
        Assert.Empty(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Psh, seq, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\n"u8, window: 512)));
        TimeSpan delay = new TcpSettings().DelayedAck;
        // A poll 300 µs before the deadline, in the same millisecond, visits its slot too early...
        Assert.Empty(f.Advance(delay - TimeSpan.FromMicroseconds(300)));
        // ...and the poll 800 µs on, 500 µs into the next millisecond, must send it (not a 4.1 s turn of the wheel later).
        Sent ack = Assert.Single(f.Advance(TimeSpan.FromMicroseconds(800)));
        Assert.Equal(TcpFlags.Ack, ack.Header.Flags);
    }
    [Fact]
    public void UntilNextTimer_TheNearestDeadlineWithinTheHorizon_ElseTheHorizon()
    {
        TcpFixture f = Http();
        NetworkStack stack = f.Stack.Stack;
        TimeSpan horizon = TimeSpan.FromMilliseconds(20);
        Assert.Equal(horizon, stack.UntilNextTimer(0, horizon));

        // A partial request: the delayed ACK is due in 40 ms, beyond a 20 ms horizon and within a 100 ms one.
        uint iss = f.Connect(80);
        uint seq = Answered(f, iss);
        Assert.Empty(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Psh, seq, iss + 1, "GET / HTTP/1.1\r\n"u8, window: 512)));
        TimeSpan delay = new TcpSettings().DelayedAck;
        Assert.Equal(horizon, stack.UntilNextTimer(0, horizon));
        Assert.InRange(stack.UntilNextTimer(0, TimeSpan.FromMilliseconds(100)), delay - TimeSpan.FromMilliseconds(1), delay);
        f.Advance(delay - TimeSpan.FromMilliseconds(5));
        Assert.InRange(stack.UntilNextTimer(0, horizon), TimeSpan.FromMilliseconds(4), TimeSpan.FromMilliseconds(5));
        f.Advance(TimeSpan.FromMilliseconds(6));

        // Only far deadlines left (the header timeout, keep-alive): the horizon.
        Assert.Equal(horizon, stack.UntilNextTimer(0, horizon));
    }
}
