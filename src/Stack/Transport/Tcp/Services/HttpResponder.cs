using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace XdpStack.Stack.Transport.Tcp.Services;

/// <summary>An HTTP/1.1 server (RFC 9112) that answers every request with one fixed response: keep-alive and <c>Connection: close</c> honoured, pipelined requests answered in order.</summary>
/// <remarks>
/// <para>It parses a request only as far as finding its end: the request line, the header fields up to the empty
/// line (at most 32 KiB, each line at most 8 KiB, as nginx's default <c>large_client_header_buffers 4 8k</c>; copied
/// into the worker's scratch buffer), and the body, which it skips: <c>Content-Length</c> octets, or a chunked body
/// (RFC 9112 §7.1) chunk by chunk, trailer fields included.
/// The answer goes out as soon as the head is read. A request it cannot frame (no HTTP/1.x version, a bad
/// Content-Length, both Content-Length and Transfer-Encoding, chunked not the last coding, Transfer-Encoding on
/// HTTP/1.0, a head over 32 KiB or a field line over 8 KiB) gets 400, a request line over 8 KiB 414 (RFC 9112 §3), a
/// transfer coding other than chunked 501 (§6.1), and the connection closes, as a server that cannot find the next
/// request must; a chunked body that turns out malformed, after the answer went, closes the connection.</para>
/// <para>Per connection it keeps, in <see cref="TcpConnection.ApplicationState"/>, the body octets of the current
/// response still to send and, in <see cref="TcpConnection.ApplicationState2"/>, whether to close after the response
/// (bit 0), whether a chunked body is being skipped (bit 1) and where in it (bits 2-3), and the octets still to skip
/// (from bit 4): the rest of a Content-Length body or of the current chunk. The response head is built once.</para>
/// </remarks>
public sealed class HttpResponder : ITcpApplication
{
    private static readonly byte[] s_filler = CreateFiller();
    private static readonly byte[] s_badRequest = Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nServer: xdpstack\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    private static readonly byte[] s_uriTooLong = Encoding.ASCII.GetBytes("HTTP/1.1 414 URI Too Long\r\nServer: xdpstack\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    private static readonly byte[] s_versionNotSupported = Encoding.ASCII.GetBytes("HTTP/1.1 505 HTTP Version Not Supported\r\nServer: xdpstack\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    private static readonly byte[] s_notImplemented = Encoding.ASCII.GetBytes("HTTP/1.1 501 Not Implemented\r\nServer: xdpstack\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

    // ApplicationState2: bit 0 close after the response; bit 1 a chunked body in progress; bits 2-3 its phase; bits 4-5
    // what the connection waits for, where its timer counts from when the wait began; from bit 6 the octets still to skip.
    private const long CloseFlag = 1;
    private const long ChunkedFlag = 2;
    private const int CountShift = 6;
    private const long ChunkSizeLine = 0 << 2, ChunkData = 1 << 2, ChunkDataEnd = 2 << 2, ChunkTrailer = 3 << 2;
    private const long PhaseMask = 3 << 2;
    private const long WaitOther = 0 << 4, WaitHead = 1 << 4, WaitIdle = 2 << 4, Lingering = 3 << 4;
    private const long WaitMask = 3 << 4;
    private const long BodyMask = ~(CloseFlag | WaitMask);

    // A chunk-size line or a trailer field longer than this ends the connection (nginx allows a line of about 4 KiB too).
    private const int MaxChunkLine = 4096;

    // The longest request line or header field line (nginx: one of its 8 KiB large header buffers), and the longest head.
    private const int MaxHeadLine = 8192;
    private const int MaxHead = 32 * 1024;
    private const int ShortHead = 4096;

    // "Date: " + an IMF-fixdate (RFC 9110 §5.6.7), always 29 octets: "Tue, 08 Dec 2026 00:44:11 GMT".
    private const int DateLength = 29;

    // Each worker writes the current date into its own copies of the three heads, once a second.
    private readonly WorkerHeads[] _heads;

    // Where the date sits in every head (after the status line and Server); -1 when the configured headers bring a
    // Date of their own.
    private readonly int _dateOffset;

    /// <summary>Answers with <paramref name="response"/> on <paramref name="workers"/> workers (each keeps its own copy of the heads, whose Date it refreshes).</summary>
    public HttpResponder(HttpResponse response, int workers = 1)
    {
        if (response.Validate() is { } error)
            throw new ArgumentException(error, nameof(response));
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        Response = response;
        HttpTimeouts timeouts = response.Timeouts ?? HttpTimeouts.Nginx;
        _keepAliveUs = Microseconds(timeouts.KeepAlive);
        _headerUs = Microseconds(timeouts.ClientHeader);
        _bodyUs = Microseconds(timeouts.ClientBody);
        _sendUs = Microseconds(timeouts.Send);
        _lingeringTimeUs = Microseconds(timeouts.LingeringTime);
        _lingeringTimeoutUs = Microseconds(timeouts.LingeringTimeout);
        bool ownDate = !(response.Headers ?? []).Any(h => h.StartsWith("date:", StringComparison.OrdinalIgnoreCase));
        _dateOffset = ownDate ? Head(response, null, ownDate).AsSpan().IndexOf("Date: "u8) + 6 : -1;
        _heads = new WorkerHeads[workers];
        for (int w = 0; w < workers; w++)
            _heads[w] = new WorkerHeads(Head(response, null, ownDate), Head(response, "keep-alive", ownDate), Head(response, "close", ownDate));
    }

    private sealed class WorkerHeads(byte[] keepAlive, byte[] keepAlive10, byte[] close)
    {
        public readonly byte[] KeepAlive = keepAlive;
        public readonly byte[] KeepAlive10 = keepAlive10;
        public readonly byte[] Close = close;

        // The second of the worker's clock the date was written in.
        public long Second = long.MinValue;
    }

    // The calling worker's heads, their Date current to the second (RFC 9110 §6.6.1: a server with a clock sends one).
    private WorkerHeads HeadsFor(TcpConnection connection)
    {
        WorkerHeads heads = _heads[connection.Worker];
        if (_dateOffset < 0)
            return heads;
        long second = connection.ClockMicroseconds / 1_000_000;
        if (second != heads.Second)
        {
            heads.Second = second;
            DateTime now = DateTime.UtcNow;
            foreach (byte[] head in (ReadOnlySpan<byte[]>)[heads.KeepAlive, heads.KeepAlive10, heads.Close])
                Utf8Formatter.TryFormat(now, head.AsSpan(_dateOffset, DateLength), out _, new StandardFormat('R'));
        }
        return heads;
    }

    private readonly long _keepAliveUs, _headerUs, _bodyUs, _sendUs, _lingeringTimeUs, _lingeringTimeoutUs;

    private static long Microseconds(TimeSpan span) => span.Ticks / 10;

    public HttpResponse Response { get; }

    public void OnEstablished(TcpConnection connection)
    {
        connection.ApplicationState = 0;
        connection.ApplicationState2 = 0;
        // The first request's head has client_header_timeout from the connection's start, as in nginx.
        Wait(connection, WaitHead);
    }

    public void OnReceive(TcpConnection connection)
    {
        if ((connection.ApplicationState2 & WaitMask) == Lingering)
        {
            Linger(connection);
            return;
        }
        NicStats? stats = null;
        while (true)
        {
            if (connection.ApplicationState > 0 && !SendBody(connection))
            {
                Wait(connection, WaitOther, _sendUs);
                return;
            }
            // The body of a request is read to its end even when the connection closes after it: a close with octets
            // still arriving would answer them with a RST, which can cost the client the response it has not read.
            if ((connection.ApplicationState2 & BodyMask) != 0 && !SkipBody(connection))
            {
                if (connection.State == TcpState.Closed || connection.Closing)
                    return;
                if (connection.PeerClosed)
                    CloseNow(connection);
                else
                    Wait(connection, WaitOther, _bodyUs);
                return;
            }
            if ((connection.ApplicationState2 & CloseFlag) != 0)
            {
                // Pipelined octets after the last request: the client may still be sending.
                if (connection.Available > 0 && !connection.PeerClosed)
                    StartLingering(connection);
                else
                    CloseNow(connection);
                return;
            }
            if (connection.Available == 0)
            {
                if (connection.PeerClosed)
                    connection.Close();
                else
                    Wait(connection, WaitIdle);
                return;
            }
            // RFC 9112 §2.2: empty lines before a request line are ignored (nginx skips any CR and LF there).
            if (connection.Peek()[0] is (byte)'\r' or (byte)'\n')
            {
                SkipEmptyLines(connection);
                continue;
            }
            // The head is copied out of the ring: its first 4 KiB (where almost every head ends; a deep pipeline of
            // small requests must not copy 32 KiB per request), then up to 32 KiB when it has not ended there.
            Span<byte> scratch = connection.Scratch;
            int copied = connection.PeekCopy(scratch[..ShortHead]);
            int headLength = HeadLength(scratch[..copied]);
            if (headLength < 0 && copied == ShortHead)
            {
                copied = connection.PeekCopy(scratch[..MaxHead]);
                headLength = HeadLength(scratch[..copied]);
            }
            if (headLength < 0)
            {
                if (copied == MaxHead)
                    RefuseRequest(connection, s_badRequest, headLength: 0);
                else if (connection.PeerClosed)
                    CloseNow(connection);
                else
                    Wait(connection, WaitHead);
                return;
            }
            RequestFraming framing = TryParse(scratch[..headLength], out bool close, out bool http10, out bool head, out long contentLength);
            if (framing is not (RequestFraming.Length or RequestFraming.Chunked))
            {
                RefuseRequest(connection, framing switch
                {
                    RequestFraming.UnknownCoding => s_notImplemented,
                    RequestFraming.UriTooLong => s_uriTooLong,
                    RequestFraming.VersionNotSupported => s_versionNotSupported,
                    _ => s_badRequest,
                }, headLength);
                return;
            }
            WorkerHeads heads = HeadsFor(connection);
            byte[] response = close ? heads.Close : http10 ? heads.KeepAlive10 : heads.KeepAlive;
            if (connection.SendSpace < response.Length)
            {
                // The request stays until ACKs free the send buffer.
                Wait(connection, WaitOther, _sendUs);
                return;
            }
            connection.Write(response);
            connection.Consume(headLength);
            connection.ApplicationState = head ? 0 : Response.BodyBytes;
            connection.ApplicationState2 = (close ? CloseFlag : 0)
                | (framing == RequestFraming.Chunked ? ChunkedFlag | ChunkSizeLine : contentLength << CountShift);
            stats ??= connection.Nic.Stats;
            stats.Add(connection.Worker, StatCounter.HttpRequests);
        }
    }

    // Sends what fits of the body still owed; true when it is all queued.
    private static bool SendBody(TcpConnection connection)
    {
        long remaining = connection.ApplicationState;
        while (remaining > 0)
        {
            int n = connection.Write(s_filler.AsSpan(0, (int)Math.Min(remaining, s_filler.Length)));
            if (n == 0)
                break;
            remaining -= n;
        }
        connection.ApplicationState = remaining;
        return remaining == 0;
    }

    // The length of the head at the start of buffer, up to and with the empty line that ends it; -1 when it has not
    // all arrived. Lines end in CRLF or, as RFC 9112 §2.2 lets a recipient accept and nginx does, a bare LF.
    private static int HeadLength(ReadOnlySpan<byte> buffer)
    {
        int at = 0;
        while (true)
        {
            int lf = buffer[at..].IndexOf((byte)'\n');
            if (lf < 0)
                return -1;
            at += lf + 1;
            if (at < buffer.Length && buffer[at] == (byte)'\n')
                return at + 1;
            if (at + 1 < buffer.Length && buffer[at] == (byte)'\r' && buffer[at + 1] == (byte)'\n')
                return at + 2;
            if (at + 1 >= buffer.Length)
                return -1;
        }
    }

    private static void SkipEmptyLines(TcpConnection connection)
    {
        ReadOnlySpan<byte> arrived = connection.Peek();
        int n = arrived.IndexOfAnyExcept((byte)'\r', (byte)'\n');
        connection.Consume(n < 0 ? arrived.Length : n);
    }

    // Answers a request it cannot frame and closes: whatever follows is dropped unread, as no next request can be found
    // in it; with more than the head there (its body, say) the client may still be sending, so the close lingers.
    private void RefuseRequest(TcpConnection connection, byte[] answer, int headLength)
    {
        connection.Nic.Stats.Add(connection.Worker, StatCounter.HttpBadRequests);
        connection.ApplicationState = 0;
        connection.ApplicationState2 = CloseFlag;
        bool more = connection.Available > headLength && !connection.PeerClosed;
        connection.Write(answer);
        if (more)
            StartLingering(connection);
        else
            CloseNow(connection);
    }

    // Closes with a FIN: what the client sent and was not answered is dropped first (a close with it unread would be a RST).
    private static void CloseNow(TcpConnection connection)
    {
        connection.SetApplicationTimer(0);
        connection.Consume(connection.Available);
        connection.Close();
    }

    // nginx's lingering close: our FIN goes after the answer, and what the client still sends is read and dropped until
    // it closes too, falls silent for lingering_timeout, or lingering_time has passed; then the connection closes.
    private void StartLingering(TcpConnection connection)
    {
        if (_lingeringTimeUs == 0 || _lingeringTimeoutUs == 0)
        {
            CloseNow(connection);
            return;
        }
        connection.Consume(connection.Available);
        connection.Shutdown();
        connection.ApplicationState = connection.ClockMicroseconds + _lingeringTimeUs;
        connection.ApplicationState2 = CloseFlag | Lingering;
        Linger(connection);
    }

    private void Linger(TcpConnection connection)
    {
        connection.Consume(connection.Available);
        long now = connection.ClockMicroseconds;
        long end = connection.ApplicationState;
        if (connection.PeerClosed || now >= end)
        {
            connection.Close();
            return;
        }
        connection.SetApplicationTimer(Math.Min(end, now + _lingeringTimeoutUs));
    }

    // Arms the timer for what the connection now waits for: an idle connection its keep-alive timeout and a request head
    // its header timeout, both counted from when that wait began; a body or a response being sent the given limit,
    // counted again from every pass that moved it.
    private void Wait(TcpConnection connection, long wait, long limitUs = 0)
    {
        long state = connection.ApplicationState2;
        if (wait != WaitOther && (state & WaitMask) == wait)
            return;
        connection.ApplicationState2 = (state & ~WaitMask) | wait;
        long timeoutUs = wait switch
        {
            WaitIdle => _keepAliveUs,
            WaitHead => _headerUs,
            _ => limitUs,
        };
        connection.SetApplicationTimer(timeoutUs == 0 ? 0 : connection.ClockMicroseconds + timeoutUs);
    }

    public void OnTimer(TcpConnection connection)
    {
        if ((connection.ApplicationState2 & WaitMask) == Lingering)
        {
            CloseNow(connection);
            return;
        }
        if (connection.Closing)
            return;
        // The client was idle past keepalive_timeout, or a head, a body or our response stood still past its limit: the
        // connection closes with a FIN and nothing else, as nginx closes it.
        connection.Nic.Stats.Add(connection.Worker, StatCounter.HttpTimeouts);
        connection.ApplicationState = 0;
        connection.ApplicationState2 = CloseFlag;
        CloseNow(connection);
    }

    // Skips what is left of the current request's body; true once it has all gone, false while more must arrive (or
    // the connection was closed on a malformed chunk).
    private bool SkipBody(TcpConnection connection)
    {
        long close = connection.ApplicationState2 & ~BodyMask;
        long state = connection.ApplicationState2 & BodyMask;
        while (state != 0)
        {
            long count = state >> CountShift;
            long phase = state & PhaseMask;
            if ((state & ChunkedFlag) == 0 || phase == ChunkData)
            {
                // Octets to drop: the rest of a Content-Length body or of a chunk.
                int n = (int)Math.Min(count, connection.Available);
                connection.Consume(n);
                count -= n;
                if (count > 0)
                {
                    connection.ApplicationState2 = (count << CountShift) | (state & (ChunkedFlag | PhaseMask)) | close;
                    return false;
                }
                state = (state & ChunkedFlag) == 0 ? 0 : ChunkedFlag | ChunkDataEnd;
                continue;
            }
            if (!TryTakeLine(connection, out ReadOnlySpan<byte> line, out bool malformed))
            {
                if (malformed)
                    return AbandonBody(connection);
                connection.ApplicationState2 = state | close;
                return false;
            }
            if (phase == ChunkDataEnd)
            {
                // The CRLF that ends a chunk's data.
                if (!line.IsEmpty)
                    return AbandonBody(connection);
                state = ChunkedFlag | ChunkSizeLine;
            }
            else if (phase == ChunkSizeLine)
            {
                if (!TryParseChunkSize(line, out long size))
                    return AbandonBody(connection);
                state = size == 0 ? ChunkedFlag | ChunkTrailer : (size << CountShift) | ChunkedFlag | ChunkData;
            }
            else if (line.IsEmpty)
            {
                // The empty line after the trailer fields: the request is complete.
                state = 0;
            }
        }
        connection.ApplicationState2 = close;
        return true;
    }

    // One line of the chunked framing, CRLF consumed; false when it has not all arrived (or is too long: malformed).
    private static bool TryTakeLine(TcpConnection connection, out ReadOnlySpan<byte> line, out bool malformed)
    {
        Span<byte> scratch = connection.Scratch[..Math.Min(connection.Scratch.Length, MaxChunkLine + 2)];
        int copied = connection.PeekCopy(scratch);
        int end = scratch[..copied].IndexOf((byte)'\n');
        if (end < 0)
        {
            line = default;
            malformed = copied == scratch.Length;
            return false;
        }
        connection.Consume(end + 1);
        line = scratch[..end];
        if (!line.IsEmpty && line[^1] == (byte)'\r')
            line = line[..^1];
        malformed = false;
        return true;
    }

    // RFC 9112 §7.1: chunk-size = 1*HEXDIG, then chunk extensions after ';' (ignored). At most 15 digits.
    private static bool TryParseChunkSize(ReadOnlySpan<byte> line, out long size)
    {
        size = 0;
        int digits = 0;
        foreach (byte b in line)
        {
            int value = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (value < 0)
                return digits > 0 && b is (byte)';' or (byte)' ' or (byte)'\t';
            if (++digits > 15)
                return false;
            size = (size << 4) | (uint)value;
        }
        return digits > 0;
    }

    // The body cannot be framed after the answer went: no next request can be found, so the connection ends (lingering,
    // as the rest of the body may still be on its way).
    private bool AbandonBody(TcpConnection connection)
    {
        connection.Nic.Stats.Add(connection.Worker, StatCounter.HttpBadRequests);
        connection.ApplicationState2 = CloseFlag;
        if (connection.PeerClosed)
            CloseNow(connection);
        else
            StartLingering(connection);
        return false;
    }

    private enum RequestFraming
    {
        Bad,
        UriTooLong,
        UnknownCoding,
        VersionNotSupported,
        Length,
        Chunked,
    }

    // RFC 9112 §3 and §6: the request line, and the fields that decide the connection and the body; nginx's choices
    // where the RFC leaves one.
    private static RequestFraming TryParse(ReadOnlySpan<byte> head, out bool close, out bool http10, out bool isHead, out long contentLength)
    {
        close = false;
        http10 = false;
        isHead = false;
        contentLength = 0;
        ReadOnlySpan<byte> requestLine = NextLine(ref head);
        if (requestLine.Length > MaxHeadLine)
            return RequestFraming.UriTooLong;
        RequestFraming line = ParseRequestLine(requestLine, out http10, out isHead);
        if (line != RequestFraming.Length)
            return line;
        bool keepAlive = false;
        bool closeToken = false;
        bool sawLength = false;
        int hosts = 0;
        RequestFraming coding = RequestFraming.Length;
        while (true)
        {
            ReadOnlySpan<byte> field = NextLine(ref head);
            if (field.IsEmpty)
                break;
            if (field.Length > MaxHeadLine)
                return RequestFraming.Bad;
            // §5.2: a line folded onto the one before (obs-fold) is refused; §5.1: so is whitespace before the colon.
            int colon = field.IndexOf((byte)':');
            if (colon <= 0 || field[0] is (byte)' ' or (byte)'\t' || field[colon - 1] is (byte)' ' or (byte)'\t')
                return RequestFraming.Bad;
            ReadOnlySpan<byte> name = field[..colon];
            ReadOnlySpan<byte> value = field[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "host"u8))
            {
                // RFC 9112 §3.2: a second Host, or one with an invalid value, is a 400.
                if (++hosts > 1 || !IsValidHost(value))
                    return RequestFraming.Bad;
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                if (ContainsToken(value, "close"u8))
                    closeToken = true;
                if (ContainsToken(value, "keep-alive"u8))
                    keepAlive = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!TryParseLength(value, out long length) || (sawLength && length != contentLength))
                    return RequestFraming.Bad;
                contentLength = length;
                sawLength = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                // §6.1: chunked must be the last coding (the others, such as gzip, need no decoding to be skipped);
                // a coding this server does not know is 501. §6.3: HTTP/1.0 framing with it is faulty.
                RequestFraming thisField = LastCodingIsChunked(value);
                if (http10 || thisField == RequestFraming.Bad || coding != RequestFraming.Length)
                    return RequestFraming.Bad;
                coding = thisField;
            }
        }
        // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400 (MUST).
        if (hosts == 0 && !http10)
            return RequestFraming.Bad;
        // §6.3: Content-Length beside Transfer-Encoding may be a smuggling attempt; refused, as nginx does.
        if (coding != RequestFraming.Length && sawLength)
            return RequestFraming.Bad;
        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        close = closeToken || (http10 && !keepAlive);
        return coding;
    }

    // The next line of the head without its CRLF (or bare LF); empty at the empty line that ends the head.
    private static ReadOnlySpan<byte> NextLine(ref ReadOnlySpan<byte> head)
    {
        int lf = head.IndexOf((byte)'\n');
        ReadOnlySpan<byte> line = lf < 0 ? head : head[..lf];
        head = lf < 0 ? default : head[(lf + 1)..];
        return !line.IsEmpty && line[^1] == (byte)'\r' ? line[..^1] : line;
    }

    // method SP request-target SP HTTP-version (§3): the method in capitals (nginx also takes '_' and '-'), a target
    // in origin form ("/..."), absolute form (a scheme first) or "*", and HTTP/1.x. Length when it is one HTTP/1.x
    // serves; HTTP/2 and later get 505 (RFC 9110 §15.6.6), HTTP/1.2 and on are answered as 1.1, as nginx does.
    private static RequestFraming ParseRequestLine(ReadOnlySpan<byte> line, out bool http10, out bool isHead)
    {
        http10 = false;
        isHead = false;
        int space = line.IndexOf((byte)' ');
        if (space <= 0 || line[..space].IndexOfAnyExcept(s_methodChars) >= 0)
            return RequestFraming.Bad;
        isHead = line[..space].SequenceEqual("HEAD"u8);
        ReadOnlySpan<byte> rest = line[(space + 1)..].TrimStart((byte)' ');
        int targetEnd = rest.IndexOf((byte)' ');
        if (targetEnd <= 0)
            return RequestFraming.Bad;
        ReadOnlySpan<byte> target = rest[..targetEnd];
        ReadOnlySpan<byte> version = rest[(targetEnd + 1)..].TrimStart((byte)' ');
        if (!(target[0] == (byte)'/' || (char.IsAsciiLetter((char)target[0]) && target.IndexOf("://"u8) > 0) || target.SequenceEqual("*"u8)))
            return RequestFraming.Bad;
        // "HTTP/" major "." minor, a digit or two each; nothing after it (a space inside the target lands here too).
        if (version.Length < 8 || !version.StartsWith("HTTP/"u8))
            return RequestFraming.Bad;
        version = version[5..];
        int dot = version.IndexOf((byte)'.');
        if (dot is < 1 or > 2 || version.Length - dot - 1 is < 1 or > 2
            || version[..dot].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0
            || version[(dot + 1)..].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
            return RequestFraming.Bad;
        int major = dot == 1 ? version[0] - '0' : ((version[0] - '0') * 10) + version[1] - '0';
        if (major > 1)
            return RequestFraming.VersionNotSupported;
        if (major == 0)
            return RequestFraming.Bad;
        http10 = version[(dot + 1)..].SequenceEqual("0"u8) || version[(dot + 1)..].SequenceEqual("00"u8);
        return RequestFraming.Length;
    }

    private static readonly System.Buffers.SearchValues<byte> s_methodChars = System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ_-"u8);

    // nginx's ngx_http_validate_host, in short: not empty, no path, backslash, whitespace or control character, no "..".
    private static bool IsValidHost(ReadOnlySpan<byte> host) =>
        !host.IsEmpty && host.IndexOfAny(s_badHostChars) < 0 && host.IndexOf(".."u8) < 0;

    private static readonly System.Buffers.SearchValues<byte> s_badHostChars = System.Buffers.SearchValues.Create(
        "/\\ \t\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000a\u000b\u000c\u000d\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f"u8);

    // The framing a Transfer-Encoding field gives: Chunked when chunked is its last coding, UnknownCoding when the last
    // is another, Bad when chunked comes before another or the field is empty.
    private static RequestFraming LastCodingIsChunked(ReadOnlySpan<byte> value)
    {
        RequestFraming framing = RequestFraming.Bad;
        while (!value.IsEmpty)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> item = (comma < 0 ? value : value[..comma]).Trim(" \t"u8);
            value = comma < 0 ? default : value[(comma + 1)..];
            if (item.IsEmpty)
                continue;
            if (framing == RequestFraming.Chunked)
                return RequestFraming.Bad;
            framing = Ascii.EqualsIgnoreCase(item, "chunked"u8) ? RequestFraming.Chunked : RequestFraming.UnknownCoding;
        }
        return framing;
    }

    private static bool ContainsToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        while (!value.IsEmpty)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> item = (comma < 0 ? value : value[..comma]).Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(item, token))
                return true;
            value = comma < 0 ? default : value[(comma + 1)..];
        }
        return false;
    }

    private static bool TryParseLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        // At most 17 digits: the count of octets to skip has 57 bits beside the flags.
        if (value.IsEmpty || value.Length > 17)
            return false;
        foreach (byte b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return false;
            length = (length * 10) + (b - '0');
        }
        return true;
    }

    private static byte[] Head(HttpResponse response, string? connection, bool date)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(response.Status).Append(' ').Append(Reason(response.Status)).Append("\r\n");
        head.Append("Server: xdpstack\r\n");
        if (date)
            head.Append("Date: ").Append(DateTime.UnixEpoch.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n");
        if (response.Status is not (204 or 304))
            head.Append("Content-Length: ").Append(response.BodyBytes).Append("\r\n");
        foreach (string line in response.Headers ?? [])
            head.Append(line).Append("\r\n");
        if (connection is not null)
            head.Append("Connection: ").Append(connection).Append("\r\n");
        head.Append("\r\n");
        return Encoding.ASCII.GetBytes(head.ToString());
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };

    private static byte[] CreateFiller()
    {
        byte[] filler = new byte[16 * 1024];
        filler.AsSpan().Fill((byte)'x');
        return filler;
    }
}
