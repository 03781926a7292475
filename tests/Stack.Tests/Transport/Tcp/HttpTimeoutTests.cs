using System.Text;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// The HTTP responder's limits on slow and idle clients, and its lingering close, as nginx's keepalive_timeout,
// client_header_timeout, client_body_timeout, send_timeout and lingering_close on (their defaults unless set).
public class HttpTimeoutTests
{
    private const uint ClientIsn = 1000;

    private static (TcpFixture F, uint Iss) Open(HttpResponse? response = null)
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80, null, response ?? new HttpResponse(200, 5))));
        return (f, f.Connect(80, ClientIsn));
    }

    private static byte[] Data(uint sequence, uint ack, string text) =>
        Segment(80, TcpFlags.Ack | TcpFlags.Psh, sequence, ack, Encoding.ASCII.GetBytes(text), window: 512);

    private static bool HasFin(List<Sent> sent) => sent.Any(s => (s.Flags & TcpFlags.Fin) != 0);

    private static bool HasRst(List<Sent> sent) => sent.Any(s => (s.Flags & TcpFlags.Rst) != 0);

    private static uint End(List<Sent> sent) => sent[^1].Sequence + (uint)sent[^1].Payload.Length;

    private static TcpConnection Only(TcpFixture f) => Assert.Single(f.Tcp.ConnectionsOf(0));

    [Fact]
    public void IdleAfterAResponse_ClosedWithAFinAt75Seconds_EachRequestStartsItAgain()
    {
        (TcpFixture f, uint iss) = Open();
        const string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, request));
        uint seq = ClientIsn + 1 + (uint)request.Length;
        f.Send(Segment(80, TcpFlags.Ack, seq, End(sent), window: 512));
        Assert.False(HasFin(f.Advance(TimeSpan.FromSeconds(50))));

        sent = f.Send(Data(seq, End(sent), request));
        seq += (uint)request.Length;
        f.Send(Segment(80, TcpFlags.Ack, seq, End(sent), window: 512));
        Assert.False(HasFin(f.Advance(TimeSpan.FromSeconds(74))));
        Assert.Equal(0, f[StatCounter.HttpTimeouts]);

        List<Sent> fin = f.Advance(TimeSpan.FromSeconds(1.1));
        Sent only = Assert.Single(fin);
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, only.Flags);
        Assert.Empty(only.Payload);
        Assert.Equal(1, f[StatCounter.HttpTimeouts]);
        Assert.True(Only(f).Orphaned);
    }

    [Fact]
    public void NoRequestAfterTheHandshake_ClosedAt60Seconds_APartialHeadDoesNotExtendIt()
    {
        (TcpFixture f, uint iss) = Open();
        f.Advance(TimeSpan.FromSeconds(30));
        f.Send(Data(ClientIsn + 1, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\nHost"));
        Assert.False(HasFin(f.Advance(TimeSpan.FromSeconds(29.9))));
        Assert.True(HasFin(f.Advance(TimeSpan.FromSeconds(0.2))));
        Assert.Equal(1, f[StatCounter.HttpTimeouts]);
        Assert.Equal(0, f[StatCounter.HttpRequests]);
    }

    [Fact]
    public void AHeadStartedWhileIdle_GetsTheHeaderTimeoutFromItsFirstOctet()
    {
        (TcpFixture f, uint iss) = Open();
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        uint seq = ClientIsn + 1 + 27;
        f.Advance(TimeSpan.FromSeconds(40));
        f.Send(Data(seq, End(sent), "GET / HT"));
        // Past the keep-alive timeout of the idle time before it, short of 60 s from the head's start.
        Assert.False(HasFin(f.Advance(TimeSpan.FromSeconds(59))));
        Assert.True(HasFin(f.Advance(TimeSpan.FromSeconds(1.1))));
    }

    [Fact]
    public void BodyTimeout_CountsFromTheLastRead()
    {
        (TcpFixture f, uint iss) = Open();
        const string head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, head + new string('a', 100)));
        uint seq = ClientIsn + 1 + (uint)head.Length + 100;
        Assert.Contains("200 OK", Encoding.ASCII.GetString(sent.SelectMany(s => s.Payload).ToArray()));
        f.Advance(TimeSpan.FromSeconds(50));
        f.Send(Data(seq, End(sent), new string('b', 100)));
        Assert.False(HasFin(f.Advance(TimeSpan.FromSeconds(59))));
        Assert.True(HasFin(f.Advance(TimeSpan.FromSeconds(1.1))));
        Assert.Equal(1, f[StatCounter.HttpTimeouts]);
    }

    [Fact]
    public void SendTimeout_AClientThatStopsReading_IsClosedAfter60SecondsWithoutProgress()
    {
        (TcpFixture f, uint iss) = Open(new HttpResponse(200, 1_000_000));
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        // The client takes what came and shuts its window.
        f.Send(Segment(80, TcpFlags.Ack, ClientIsn + 28, End(sent), window: 0));
        f.Advance(TimeSpan.FromSeconds(59));
        Assert.False(Only(f).Closing);
        f.Advance(TimeSpan.FromSeconds(1.1));
        Assert.True(Only(f).Orphaned);
        Assert.Equal(1, f[StatCounter.HttpTimeouts]);
    }

    [Fact]
    public void TimeoutsSetToZero_AreOff()
    {
        var timeouts = HttpTimeouts.Nginx with { KeepAlive = TimeSpan.Zero, ClientHeader = TimeSpan.Zero };
        (TcpFixture f, uint iss) = Open(new HttpResponse(200, 0, Timeouts: timeouts));
        Assert.False(HasFin(f.Advance(TimeSpan.FromSeconds(100))));
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        f.Send(Segment(80, TcpFlags.Ack, ClientIsn + 28, End(sent), window: 512));
        Assert.False(HasFin(f.Advance(TimeSpan.FromSeconds(1000))));
        Assert.Equal(TcpState.Established, Only(f).State);
        Assert.Equal(0, f[StatCounter.HttpTimeouts]);
    }

    [Fact]
    public void ConnectionClose_WithItsBodyStillArriving_FinOnlyOnceTheBodyIsRead()
    {
        (TcpFixture f, uint iss) = Open();
        const string head = "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3000\r\n\r\n";
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, head + new string('a', 1000)));
        Assert.Contains("Connection: close", Encoding.ASCII.GetString(sent.SelectMany(s => s.Payload).ToArray()));
        Assert.False(HasFin(sent));
        uint seq = ClientIsn + 1 + (uint)head.Length + 1000;

        sent = f.Send(Data(seq, End(sent), new string('b', 2000)));

        Assert.True(HasFin(sent));
        Assert.False(HasRst(sent));
        Assert.Equal(0, f[StatCounter.TcpAbortOnClose]);
    }

    [Fact]
    public void PipelinedAfterConnectionClose_Lingers_DataIsAckedNotReset_ThenClosesAfterFiveQuietSeconds()
    {
        (TcpFixture f, uint iss) = Open();
        const string requests = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, requests));
        Assert.Equal(1, f[StatCounter.HttpRequests]);
        Assert.True(HasFin(sent));
        uint seq = ClientIsn + 1 + (uint)requests.Length;
        uint ourEnd = End(sent) + 1;
        TcpConnection c = Only(f);
        Assert.False(c.Orphaned);

        for (int i = 0; i < 3; i++)
        {
            f.Advance(TimeSpan.FromSeconds(4));
            List<Sent> answer = f.Send(Data(seq, ourEnd, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n"));
            seq += 28;
            Assert.False(HasRst(answer));
            Assert.Equal(TcpState.FinWait2, c.State);
        }
        Assert.Equal(1, f[StatCounter.HttpRequests]);

        f.Advance(TimeSpan.FromSeconds(5.1));
        Assert.True(c.Orphaned);
        // Lingering is over: data now is data after a close.
        Sent rst = Assert.Single(f.Send(Data(seq, ourEnd, "late")));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(0, f[StatCounter.HttpTimeouts]);
    }

    [Fact]
    public void Lingering_EndsAfterLingeringTime_EvenWhileTheClientKeepsSending()
    {
        (TcpFixture f, uint iss) = Open();
        const string requests = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nxx";
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, requests));
        uint seq = ClientIsn + 1 + (uint)requests.Length;
        uint ourEnd = End(sent) + 1;
        TcpConnection c = Only(f);
        for (int second = 0; second < 29; second++)
        {
            f.Advance(TimeSpan.FromSeconds(1));
            Assert.False(HasRst(f.Send(Data(seq, ourEnd, "more"))));
            seq += 4;
        }
        Assert.False(c.Orphaned);
        f.Advance(TimeSpan.FromSeconds(1.1));
        Assert.True(c.Orphaned);
    }

    [Fact]
    public void RefusedRequestWithABody_400ThenLingers_PeerFinEndsIt()
    {
        (TcpFixture f, uint iss) = Open();
        const string request = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello";
        List<Sent> sent = f.Send(Data(ClientIsn + 1, iss + 1, request));
        Assert.StartsWith("HTTP/1.1 400 Bad Request", Encoding.ASCII.GetString(sent.SelectMany(s => s.Payload).ToArray()));
        Assert.True(HasFin(sent));
        uint seq = ClientIsn + 1 + (uint)request.Length;
        uint ourEnd = End(sent) + 1;
        TcpConnection c = Only(f);

        Assert.False(HasRst(f.Send(Data(seq, ourEnd, "more of the body"))));
        seq += 16;
        Assert.False(c.Orphaned);
        Sent ack = Assert.Single(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Fin, seq, ourEnd, window: 512)));
        Assert.Equal(seq + 1, ack.Ack);
        Assert.Equal(TcpState.TimeWait, c.State);
    }

    [Fact]
    public void Timeouts_OutOfRange_Refused()
    {
        Assert.NotNull(new HttpResponse(Timeouts: HttpTimeouts.Nginx with { Send = TimeSpan.FromSeconds(-1) }).Validate());
        Assert.NotNull(new HttpResponse(Timeouts: HttpTimeouts.Nginx with { KeepAlive = TimeSpan.FromDays(2) }).Validate());
        Assert.Null(new HttpResponse(Timeouts: HttpTimeouts.Nginx).Validate());
    }
}
