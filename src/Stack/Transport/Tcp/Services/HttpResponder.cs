using System.Text;

namespace XdpStack.Stack.Transport.Tcp.Services;

/// <summary>An HTTP/1.1 server (RFC 9112) that answers every request with one fixed response: keep-alive and <c>Connection: close</c> honoured, pipelined requests answered in order.</summary>
/// <remarks>
/// <para>It parses a request only as far as finding its end: the request line, the header fields up to the empty
/// line (at most 8 KiB, copied into the worker's scratch buffer), and a <c>Content-Length</c> body, which it skips.
/// A request it cannot frame (no HTTP/1.x version, a bad Content-Length, <c>Transfer-Encoding</c>, a head over 8 KiB)
/// gets 400 and the connection closes, as a server that cannot find the next request must.</para>
/// <para>Per connection it keeps, in <see cref="TcpConnection.ApplicationState"/>, the body octets of the current
/// response still to send and, in <see cref="TcpConnection.ApplicationState2"/>, the request-body octets still to
/// skip (shifted left by one) and whether to close after the response (bit 0). The response head is built once.</para>
/// </remarks>
public sealed class HttpResponder : ITcpApplication
{
    private static readonly byte[] s_filler = CreateFiller();
    private static readonly byte[] s_badRequest = Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nServer: xdpstack\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    private static readonly byte[] s_headEnd = "\r\n\r\n"u8.ToArray();

    private readonly byte[] _keepAlive;
    private readonly byte[] _keepAlive10;
    private readonly byte[] _close;

    public HttpResponder(HttpResponse response)
    {
        if (response.Validate() is { } error)
            throw new ArgumentException(error, nameof(response));
        Response = response;
        _keepAlive = Head(response, null);
        _keepAlive10 = Head(response, "keep-alive");
        _close = Head(response, "close");
    }

    public HttpResponse Response { get; }

    public void OnEstablished(TcpConnection connection)
    {
        connection.ApplicationState = 0;
        connection.ApplicationState2 = 0;
    }

    public void OnReceive(TcpConnection connection)
    {
        NicStats? stats = null;
        while (true)
        {
            if (connection.ApplicationState > 0 && !SendBody(connection))
                return;
            if ((connection.ApplicationState2 & 1) != 0)
            {
                connection.Consume(connection.Available);
                connection.Close();
                return;
            }
            long skip = connection.ApplicationState2 >> 1;
            if (skip > 0)
            {
                int n = (int)Math.Min(skip, connection.Available);
                connection.Consume(n);
                skip -= n;
                connection.ApplicationState2 = skip << 1;
                if (skip > 0)
                    return;
            }
            if (connection.Available == 0)
            {
                if (connection.PeerClosed)
                    connection.Close();
                return;
            }
            Span<byte> scratch = connection.Scratch;
            int copied = connection.PeekCopy(scratch);
            int end = scratch[..copied].IndexOf(s_headEnd);
            if (end < 0)
            {
                if (copied == scratch.Length)
                    RefuseRequest(connection);
                else if (connection.PeerClosed)
                    connection.Close();
                return;
            }
            int headLength = end + s_headEnd.Length;
            if (!TryParse(scratch[..headLength], out bool close, out bool http10, out bool head, out long contentLength))
            {
                RefuseRequest(connection);
                return;
            }
            byte[] response = close ? _close : http10 ? _keepAlive10 : _keepAlive;
            if (connection.SendSpace < response.Length)
                return; // the request stays until ACKs free the send buffer
            connection.Write(response);
            connection.Consume(headLength);
            connection.ApplicationState = head ? 0 : Response.BodyBytes;
            connection.ApplicationState2 = (contentLength << 1) | (close ? 1L : 0L);
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

    private static void RefuseRequest(TcpConnection connection)
    {
        connection.Nic.Stats.Add(connection.Worker, StatCounter.HttpBadRequests);
        connection.Consume(connection.Available);
        connection.Write(s_badRequest);
        connection.Close();
    }

    // RFC 9112 §3 and §6: the request line's version, and the fields that decide the connection and the body.
    private static bool TryParse(ReadOnlySpan<byte> head, out bool close, out bool http10, out bool isHead, out long contentLength)
    {
        close = false;
        http10 = false;
        contentLength = 0;
        int lineEnd = head.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> requestLine = head[..lineEnd];
        isHead = requestLine.StartsWith("HEAD "u8);
        int lastSpace = requestLine.LastIndexOf((byte)' ');
        if (lastSpace <= 0 || requestLine.IndexOf((byte)' ') == lastSpace)
            return false;
        ReadOnlySpan<byte> version = requestLine[(lastSpace + 1)..];
        if (version.SequenceEqual("HTTP/1.1"u8))
            http10 = false;
        else if (version.SequenceEqual("HTTP/1.0"u8))
            http10 = true;
        else
            return false;
        bool keepAlive = false;
        bool closeToken = false;
        bool sawLength = false;
        ReadOnlySpan<byte> fields = head[(lineEnd + 2)..];
        while (true)
        {
            int end = fields.IndexOf("\r\n"u8);
            if (end <= 0)
                break;
            ReadOnlySpan<byte> line = fields[..end];
            fields = fields[(end + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
                return false;
            ReadOnlySpan<byte> name = line[..colon];
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                if (ContainsToken(value, "close"u8))
                    closeToken = true;
                if (ContainsToken(value, "keep-alive"u8))
                    keepAlive = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!TryParseLength(value, out long length) || (sawLength && length != contentLength))
                    return false;
                contentLength = length;
                sawLength = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                // A chunked body cannot be skipped without decoding it; this responder does not.
                return false;
            }
        }
        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        close = closeToken || (http10 && !keepAlive);
        return true;
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
        if (value.IsEmpty || value.Length > 18)
            return false;
        foreach (byte b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return false;
            length = (length * 10) + (b - '0');
        }
        return true;
    }

    private static byte[] Head(HttpResponse response, string? connection)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(response.Status).Append(' ').Append(Reason(response.Status)).Append("\r\n");
        head.Append("Server: xdpstack\r\n");
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
