using System.Text;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

public class HttpResponderTests
{
    private static TcpFixture Http(HttpResponse response)
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80, null, response)));
        return f;
    }

    // What the responder sent, each Date line (checked in Date_EveryResponse_CurrentImfFixdate) taken out.
    private static string Text(IEnumerable<Sent> sent) => WithoutDate(Encoding.ASCII.GetString(sent.SelectMany(s => s.Payload).ToArray()));

    internal static string WithoutDate(string text) => System.Text.RegularExpressions.Regex.Replace(text, "\r\nDate: [^\r]{29}\r\n", "\r\n");

    [Fact]
    public void KeepAlive_FixedResponseAndConnectionStaysOpen()
    {
        TcpFixture f = Http(new HttpResponse(200, 13, ["Content-Type: text/plain"]));
        uint iss = f.Connect(80);
        byte[] request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, request, window: 512));
        Assert.Equal("HTTP/1.1 200 OK\r\nServer: xdpstack\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nxxxxxxxxxxxxx", Text(sent));
        Assert.DoesNotContain(sent, s => (s.Flags & TcpFlags.Fin) != 0);
        Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        Assert.Equal(1, f[StatCounter.HttpRequests]);
    }

    [Fact]
    public void Date_EveryResponse_CurrentImfFixdate()
    {
        // RFC 9110 §6.6.1: an origin server with a clock sends Date; after Server, as nginx orders them.
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        DateTime before = DateTime.UtcNow.AddSeconds(-1);
        string raw = Encoding.ASCII.GetString(f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, window: 512)).SelectMany(s => s.Payload).ToArray());
        System.Text.RegularExpressions.Match date = System.Text.RegularExpressions.Regex.Match(raw, "^HTTP/1.1 200 OK\r\nServer: xdpstack\r\nDate: ([^\r]*)\r\nContent-Length: 0\r\n\r\n$");
        Assert.True(date.Success, raw);
        DateTime sent = DateTime.ParseExact(date.Groups[1].Value, "R", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal);
        Assert.InRange(sent, before, DateTime.UtcNow.AddSeconds(1));
        // A Date among the configured headers is sent instead.
        TcpFixture g = Http(new HttpResponse(200, 0, ["Date: Sun, 06 Nov 1994 08:49:37 GMT"]));
        uint iss2 = g.Connect(80);
        string fixedDate = Encoding.ASCII.GetString(g.Send(Segment(80, TcpFlags.Ack, 1001, iss2 + 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, window: 512)).SelectMany(s => s.Payload).ToArray());
        Assert.Equal("HTTP/1.1 200 OK\r\nServer: xdpstack\r\nContent-Length: 0\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n", fixedDate);
    }

    [Fact]
    public void Pipelined_AnsweredInOrder_BodiesSkipped()
    {
        TcpFixture f = Http(new HttpResponse(404, 0));
        uint iss = f.Connect(80);
        byte[] requests = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\nhelloHEAD /c HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, requests, window: 512));
        string one = "HTTP/1.1 404 Not Found\r\nServer: xdpstack\r\nContent-Length: 0\r\n\r\n";
        Assert.Equal(one + one + one, Text(sent));
        Assert.Equal(3, f[StatCounter.HttpRequests]);
    }

    [Fact]
    public void RequestSplitAcrossSegments_AnsweredOnceWhole()
    {
        TcpFixture f = Http(new HttpResponse(200, 2));
        uint iss = f.Connect(80);
        Assert.DoesNotContain(f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHo"u8, window: 512)), s => s.Payload.Length > 0);
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1019, iss + 1, "st: x\r\n\r\n"u8, window: 512));
        Assert.EndsWith("\r\n\r\nxx", Text(sent));
    }

    [Fact]
    public void ConnectionClose_ResponseThenFin_ThenTimeWait()
    {
        TcpFixture f = Http(new HttpResponse(200, 5));
        uint iss = f.Connect(80);
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8, window: 512));
        Assert.Contains("Connection: close\r\n", Text(sent));
        Sent last = sent[^1];
        Assert.True((last.Flags & TcpFlags.Fin) != 0);
        uint finEnd = last.Sequence + (uint)last.Payload.Length + 1;
        uint clientNext = 1001 + 46;
        // The client ACKs our FIN, then sends its own: we ACK it and hold TIME_WAIT.
        List<Sent> extra = f.Send(Segment(80, TcpFlags.Ack, clientNext, finEnd, window: 512));
        Assert.True(extra.Count == 0, string.Join(";", extra.Select(e => $"{e.Flags} {e.Sequence - iss} {e.Ack} {e.Payload.Length}")) + $" fin {finEnd - iss}");
        TcpConnection c = Assert.Single(f.Tcp.ConnectionsOf(0));
        Assert.Equal(TcpState.FinWait2, c.State);
        Sent ack = Assert.Single(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Fin, clientNext, finEnd, window: 512)));
        Assert.Equal(clientNext + 1, ack.Ack);
        Assert.Equal(TcpState.TimeWait, c.State);
        // RFC 1337: a RST does not end TIME_WAIT.
        Assert.Empty(f.Send(Segment(80, TcpFlags.Rst, clientNext + 1, 0)));
        Assert.Equal(TcpState.TimeWait, c.State);
        Assert.Equal(1, f[StatCounter.TcpTimeWaitResetsIgnored]);
        // A retransmitted FIN is ACKed again.
        Assert.Equal(clientNext + 1, Assert.Single(f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Fin, clientNext, finEnd, window: 512))).Ack);
        Assert.Empty(f.Advance(TimeSpan.FromSeconds(60)));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public void ConnectionClose_ClientNeverSendsItsFin_GoneAfterTheFinWait2Timeout()
    {
        // The responder closed the connection (an orphan, as after Linux's close()): FIN_WAIT_2 lasts 60 s.
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        Sent last = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8, window: 512))[^1];
        Assert.True((last.Flags & TcpFlags.Fin) != 0);
        f.Send(Segment(80, TcpFlags.Ack, 1001 + 46, last.Sequence + (uint)last.Payload.Length + 1, window: 512));
        Assert.Equal(TcpState.FinWait2, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
        f.Advance(TimeSpan.FromSeconds(59));
        Assert.Single(f.Tcp.ConnectionsOf(0));
        f.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(f.Tcp.ConnectionsOf(0));
    }

    [Fact]
    public void Http10WithoutKeepAlive_Closes_WithKeepAlive_Stays()
    {
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"u8, window: 512));
        Assert.Contains("Connection: keep-alive\r\n", Text(sent));
        Assert.DoesNotContain(sent, s => (s.Flags & TcpFlags.Fin) != 0);
        List<Sent> closing = f.Send(Segment(80, TcpFlags.Ack, 1043, iss + 1 + (uint)sent.Sum(s => s.Payload.Length), "GET / HTTP/1.0\r\n\r\n"u8, window: 512));
        Assert.Contains(closing, s => (s.Flags & TcpFlags.Fin) != 0);
    }

    [Fact]
    public void BadRequest_400AndClose()
    {
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GARBAGE\r\n\r\n"u8, window: 512));
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", Text(sent));
        Assert.Contains(sent, s => (s.Flags & TcpFlags.Fin) != 0);
        Assert.Equal(1, f[StatCounter.HttpBadRequests]);
    }

    [Fact]
    public void ChunkedBody_SkippedWithExtensionsAndTrailers_NextRequestAnswered()
    {
        TcpFixture f = Http(new HttpResponse(201, 0));
        uint iss = f.Connect(80);
        byte[] requests = ("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
            + "5\r\nhello\r\n3;name=value\r\nabc\r\nA \r\n0123456789\r\n0\r\nChecksum: 1\r\nOther: 2\r\n\r\n"
            + "GET / HTTP/1.1\r\nHost: x\r\n\r\n").Select(c => (byte)c).ToArray();
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, requests, window: 512));
        string one = "HTTP/1.1 201 Created\r\nServer: xdpstack\r\nContent-Length: 0\r\n\r\n";
        Assert.Equal(one + one, Text(sent));
        Assert.Equal((2, 0), (f[StatCounter.HttpRequests], f[StatCounter.HttpBadRequests]));
        Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
    }

    [Fact]
    public void ChunkedBody_SplitAnywhere_EachRequestAnsweredOnce()
    {
        // The same two requests cut into pieces of every size from 1 to 9 octets: inside the size line, the data, the
        // CRLF after it, the last chunk and the trailers.
        string requests = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n2\r\nok\r\n0\r\nT: 1\r\n\r\n"
            + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
        for (int piece = 1; piece <= 9; piece++)
        {
            TcpFixture f = Http(new HttpResponse(200, 1));
            uint iss = f.Connect(80);
            var sent = new List<Sent>();
            for (int at = 0; at < requests.Length; at += piece)
            {
                byte[] part = requests.Substring(at, Math.Min(piece, requests.Length - at)).Select(c => (byte)c).ToArray();
                sent.AddRange(f.Send(Segment(80, TcpFlags.Ack, 1001 + (uint)at, iss + 1 + (uint)sent.Sum(s => s.Payload.Length), part, window: 512)));
            }
            string one = "HTTP/1.1 200 OK\r\nServer: xdpstack\r\nContent-Length: 1\r\n\r\nx";
            Assert.Equal(one + one, Text(sent));
            Assert.Equal(0, f[StatCounter.HttpBadRequests]);
        }
    }

    [Fact]
    public void ChunkedBody_LargerThanTheBuffers_SkippedAsItArrives()
    {
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        uint seq = 1001;
        uint acked = iss + 1;
        void Send(byte[] data)
        {
            List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, seq, acked, data, window: 512));
            seq += (uint)data.Length;
            acked += (uint)sent.Sum(s => s.Payload.Length);
        }
        Send("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n30D40\r\n"u8.ToArray());
        for (int sent = 0; sent < 200_000; sent += 1000)
            Send(new byte[1000]);
        Send("\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Assert.Equal(2, f[StatCounter.HttpRequests]);
        Assert.Equal(0, f[StatCounter.HttpBadRequests]);
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Not Implemented")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "400 Bad Request")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "400 Bad Request")]
    [InlineData("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "400 Bad Request")]
    public void TransferEncodingThatCannotBeFramed_RefusedAndClosed(string request, string status)
    {
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, request.Select(c => (byte)c).ToArray(), window: 512));
        Assert.StartsWith("HTTP/1.1 " + status + "\r\n", Text(sent));
        Assert.Contains(sent, s => (s.Flags & TcpFlags.Fin) != 0);
        Assert.Equal((0, 1), (f[StatCounter.HttpRequests], f[StatCounter.HttpBadRequests]));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n\r\n", "400 Bad Request")]                         // RFC 9112 §3.2: Host is a MUST in 1.1
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400 Bad Request")]
    [InlineData("GET / HTTP/1.1\r\nHost:\r\n\r\n", "400 Bad Request")]
    [InlineData("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "400 Bad Request")]
    [InlineData("GET / HTTP/1.1\r\nHost: a..b\r\n\r\n", "400 Bad Request")]
    [InlineData("GET / HTTP/1.1\r\nHost : x\r\n\r\n", "400 Bad Request")]               // §5.1: whitespace before the colon
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nAccept: a,\r\n b\r\n\r\n", "400 Bad Request")] // §5.2: obs-fold
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n", "400 Bad Request")]
    [InlineData("get / HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request")]
    [InlineData("GET foo HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request")]
    [InlineData("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request")]
    [InlineData("GET / http/1.1\r\nHost: x\r\n\r\n", "400 Bad Request")]
    [InlineData("GET / HTTP/1\r\nHost: x\r\n\r\n", "400 Bad Request")]
    [InlineData("GET /\r\nHost: x\r\n\r\n", "400 Bad Request")]
    [InlineData("GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported")] // RFC 9110 §15.6.6, as nginx
    public void RequestLineAndFieldsNginxRefuses_400Or505AndClose(string request, string status)
    {
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, request.Select(c => (byte)c).ToArray(), window: 512));
        Assert.StartsWith("HTTP/1.1 " + status + "\r\n", Text(sent));
        Assert.Contains(sent, s => (s.Flags & TcpFlags.Fin) != 0);
        Assert.Equal((0, 1), (f[StatCounter.HttpRequests], f[StatCounter.HttpBadRequests]));
    }

    [Theory]
    [InlineData("GET / HTTP/1.0\r\n\r\n", true)]                                      // no Host needed in 1.0
    [InlineData("GET / HTTP/1.1\nHost: x\n\n", false)]                                   // RFC 9112 §2.2: bare LF
    [InlineData("GET / HTTP/1.1\r\nHost: x\n\r\n", false)]
    [InlineData("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", false)]                   // §2.2: empty lines before it
    [InlineData("GET / HTTP/1.2\r\nHost: x\r\n\r\n", false)]                           // a later 1.x minor, as 1.1
    [InlineData("GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", false)]                  // absolute form
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: [2001:2::1]:80\r\n\r\n", false)]
    [InlineData("M-SEARCH_X / HTTP/1.1\r\nHost: x.\r\n\r\n", false)]
    public void RequestsNginxAnswers_200(string request, bool closes)
    {
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, request.Select(c => (byte)c).ToArray(), window: 512));
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", Text(sent));
        Assert.Equal(closes, sent.Any(s => (s.Flags & TcpFlags.Fin) != 0));
        Assert.Equal((1, 0), (f[StatCounter.HttpRequests], f[StatCounter.HttpBadRequests]));
    }

    [Fact]
    public void ChunkedBodyWithBareLineFeeds_SkippedAndTheNextRequestAnswered()
    {
        TcpFixture f = Http(new HttpResponse(204, 0));
        uint iss = f.Connect(80);
        byte[] requests = "POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\nGET / HTTP/1.1\nHost: x\n\n"u8.ToArray();
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, requests, window: 512));
        string one = "HTTP/1.1 204 No Content\r\nServer: xdpstack\r\n\r\n";
        Assert.Equal(one + one, Text(sent));
        Assert.Equal((2, 0), (f[StatCounter.HttpRequests], f[StatCounter.HttpBadRequests]));
    }

    [Fact]
    public void HeadUpTo32KiB_Answered_LongerLinesAndHeadsRefusedAsNginx()
    {
        // nginx's default large_client_header_buffers (4 x 8 KiB): each line at most 8 KiB, the head at most 32 KiB.
        string Field(char name, int length) => name + ": " + new string('v', length - 3) + "\r\n";
        string ok = "GET / HTTP/1.1\r\nHost: x\r\n" + Field('a', 7000) + Field('b', 7000) + Field('c', 7000) + Field('d', 7000) + "\r\n";
        (string Request, string Status)[] cases =
        [
            (ok, "200 OK"),
            ("GET /" + new string('u', 8200) + " HTTP/1.1\r\nHost: x\r\n\r\n", "414 URI Too Long"),
            ("GET / HTTP/1.1\r\nHost: x\r\n" + Field('a', 8300) + "\r\n", "400 Bad Request"),
            ("GET / HTTP/1.1\r\nHost: x\r\n" + Field('a', 7000) + Field('b', 7000) + Field('c', 7000) + Field('d', 7000) + Field('e', 7000) + "\r\n", "400 Bad Request"),
        ];
        foreach ((string request, string status) in cases)
        {
            TcpFixture f = Http(new HttpResponse(200, 0));
            uint iss = f.Connect(80);
            byte[] bytes = Encoding.ASCII.GetBytes(request);
            var sent = new List<Sent>();
            for (int at = 0; at < bytes.Length; at += 1460)
                sent.AddRange(f.Send(Segment(80, TcpFlags.Ack, 1001 + (uint)at, iss + 1, bytes.AsSpan(at, Math.Min(1460, bytes.Length - at)), window: 512)));
            Assert.StartsWith("HTTP/1.1 " + status + "\r\n", Text(sent));
            Assert.Equal(status == "200 OK" ? 0 : 1, f[StatCounter.HttpBadRequests]);
        }
    }

    [Theory]
    [InlineData("zz\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhelloXX0\r\n\r\n")]
    [InlineData("1234567890ABCDEF0\r\n")]
    public void MalformedChunk_AfterTheAnswer_ConnectionEnds(string body)
    {
        TcpFixture f = Http(new HttpResponse(200, 0));
        uint iss = f.Connect(80);
        byte[] request = ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "GET / HTTP/1.1\r\nHost: x\r\n\r\n").Select(c => (byte)c).ToArray();
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, request, window: 512));
        Assert.Equal("HTTP/1.1 200 OK\r\nServer: xdpstack\r\nContent-Length: 0\r\n\r\n", Text(sent));
        Assert.Contains(sent, s => (s.Flags & TcpFlags.Fin) != 0);
        Assert.Equal((1, 1), (f[StatCounter.HttpRequests], f[StatCounter.HttpBadRequests]));
    }

    [Fact]
    public void LargeBody_StreamedAsTheWindowOpens()
    {
        TcpFixture f = Http(new HttpResponse(200, 200_000));
        uint iss = f.Connect(80);
        var received = new List<byte>();
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, window: 512));
        for (int round = 0; round < 200 && sent.Count > 0; round++)
        {
            received.AddRange(sent.SelectMany(s => s.Payload));
            sent = f.Send(Segment(80, TcpFlags.Ack, 1028, iss + 1 + (uint)received.Count, window: 512));
        }
        string text = Encoding.ASCII.GetString(received.ToArray());
        int body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.Equal(200_000, text.Length - body);
        Assert.All(text[body..], c => Assert.Equal('x', c));
    }

    [Fact]
    public void ResponseValidation_RejectsBodyOn204AndBadHeaders()
    {
        Assert.NotNull(new HttpResponse(204, 1).Validate());
        Assert.NotNull(new HttpResponse(99).Validate());
        Assert.NotNull(new HttpResponse(200, 0, ["Bad Header: x"]).Validate());
        Assert.NotNull(new HttpResponse(200, 0, ["X: a\r\nY: b"]).Validate());
        Assert.Null(new HttpResponse(200, 0, ["X-Test: yes"]).Validate());
    }

    // Opens a connection, has it answer one request with Connection: close, and completes the close from the client; the connection if it is still in the table.
    private static TcpConnection? CloseOne(TcpFixture f, ushort clientPort)
    {
        Sent synAck = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 1000, 0, mss: 1460, clientPort: clientPort)));
        uint iss = synAck.Sequence;
        f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, window: 512, clientPort: clientPort));
        List<Sent> sent = f.Send(Segment(80, TcpFlags.Ack, 1001, iss + 1, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8, window: 512, clientPort: clientPort));
        uint finEnd = sent[^1].Sequence + (uint)sent[^1].Payload.Length + 1;
        f.Send(Segment(80, TcpFlags.Ack | TcpFlags.Fin, 1047, finEnd, window: 512, clientPort: clientPort));
        return f.Tcp.ConnectionsOf(0).SingleOrDefault(c => c.RemotePort == clientPort);
    }

    [Fact]
    public void TimeWait_TableFull_ClosesWithoutTimeWaitAndCounts()
    {
        var f = new TcpFixture(new TcpSettings { MaxTimeWait = 2 });
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80)));
        Assert.Equal(TcpState.TimeWait, CloseOne(f, 40001)?.State);
        Assert.Equal(TcpState.TimeWait, CloseOne(f, 40002)?.State);
        Assert.Null(CloseOne(f, 40003));
        Assert.Equal(2, f.Tcp.ConnectionsOf(0).Count);
        Assert.Equal(1, f[StatCounter.TcpTimeWaitOverflow]);
    }

    [Fact]
    public void TimeWait_NewSynAboveOldSequence_OpensNewConnection()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Http, 80)));
        Assert.Equal(TcpState.TimeWait, CloseOne(f, 40001)?.State);
        // An old SYN (below RCV.NXT) gets an ACK; a new one opens a new incarnation at once.
        Sent ack = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 500, 0, clientPort: 40001)));
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Sent synAck = Assert.Single(f.Send(Segment(80, TcpFlags.Syn, 900_000, 0, mss: 1460, clientPort: 40001)));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(900_001u, synAck.Ack);
        Assert.Equal(TcpState.SynReceived, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
    }
}
