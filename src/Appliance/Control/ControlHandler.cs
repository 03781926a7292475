using System.Net.Sockets;
using System.Text.Json;
using XdpStack.Appliance.Capture;

namespace XdpStack.Appliance.Control;

/// <summary>Answers control requests from one connection: <c>show …</c> and <c>stats</c> with one JSON line each, <c>capture {…}</c> with a stream.</summary>
/// <remarks>
/// Requests are lines: <c>show interfaces</c>, <c>show routes</c>, <c>show route-summary</c>, <c>show neighbors</c>, <c>show counters</c>,
/// <c>stats</c>, and <c>capture</c> followed by a <see cref="CaptureRequest"/> as JSON. Every reply is one JSON line;
/// a failed request gets <c>{"error": "…"}</c> and the connection stays usable. A capture takes the connection over
/// (see <see cref="CaptureMessage"/>); one capture runs at a time.
/// </remarks>
internal sealed class ControlHandler(ApplianceView view, CancellationToken stopping)
{
    private int _captureRunning;

    /// <summary>Serves requests from <paramref name="socket"/> until it closes, the server stops, or a capture ends.</summary>
    public void Serve(Socket socket)
    {
        using var stream = new NetworkStream(socket, ownsSocket: false);
        while (!stopping.IsCancellationRequested)
        {
            string? line;
            try
            {
                line = ControlLine.Read(stream, ControlLine.MaxRequest);
            }
            catch (ApplianceException e)
            {
                ControlLine.Write(stream, Error(e.Message));
                return;
            }
            if (line is null)
                return;
            line = line.Trim();
            if (line == "capture" || line.StartsWith("capture ", StringComparison.Ordinal))
            {
                Capture(socket, stream, line["capture".Length..]);
                return;
            }
            ControlLine.Write(stream, Answer(line));
        }
    }

    /// <summary>The JSON reply line to a request other than <c>capture</c>.</summary>
    public string Answer(string request)
    {
        try
        {
            return request switch
            {
                "show interfaces" => JsonSerializer.Serialize(view.Interfaces(), ControlJson.Default.InterfacesReply),
                "show routes" => JsonSerializer.Serialize(view.Routes(), ControlJson.Default.RoutesReply),
                "show route-summary" => JsonSerializer.Serialize(view.RouteSummary(), ControlJson.Default.RouteSummaryReply),
                "show neighbors" or "show neighbours" => JsonSerializer.Serialize(view.Neighbors(), ControlJson.Default.NeighborsReply),
                "show counters" => JsonSerializer.Serialize(view.Counters(), ControlJson.Default.CountersReply),
                "stats" => JsonSerializer.Serialize(view.Sample(), ControlJson.Default.StatsSample),
                _ => Error($"unknown request '{Truncate(request)}' (known: show interfaces|routes|route-summary|neighbors|counters, stats, capture)"),
            };
        }
        catch (Exception e) when (e is ApplianceException or Xdp.XdpException)
        {
            return Error(e.Message);
        }
    }

    private void Capture(Socket socket, NetworkStream stream, string json)
    {
        CaptureRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(json, ControlJson.Default.CaptureRequest);
        }
        catch (JsonException e)
        {
            ControlLine.Write(stream, Error("capture: the request is not valid JSON: " + e.Message));
            return;
        }
        if (request is null || string.IsNullOrEmpty(request.Interface))
        {
            ControlLine.Write(stream, Error("capture: the request names no interface"));
            return;
        }
        if (!CaptureFilter.TryParse(request.Filter, out CaptureFilter filter, out string? filterError))
        {
            ControlLine.Write(stream, Error(filterError));
            return;
        }
        if (Interlocked.CompareExchange(ref _captureRunning, 1, 0) != 0)
        {
            ControlLine.Write(stream, Error("a capture is already running; one at a time"));
            return;
        }
        try
        {
            CaptureSession session;
            try
            {
                session = CaptureSession.Start(view.Host.Plane, request.Interface, request.Queue, filter, request.Received, request.Transmitted, request.Snaplen);
            }
            catch (ApplianceException e)
            {
                ControlLine.Write(stream, Error(e.Message));
                return;
            }
            using (session)
                Stream(socket, stream, session, request, filter);
        }
        finally
        {
            Volatile.Write(ref _captureRunning, 0);
        }
    }

    private void Stream(Socket socket, NetworkStream stream, CaptureSession session, CaptureRequest request, CaptureFilter filter)
    {
        ControlLine.Write(stream, JsonSerializer.Serialize(new CaptureStarted(request.Interface, session.Queues, filter.ToString(), session.SnapLength), ControlJson.Default.CaptureStarted));
        var output = new BufferedStream(stream, 1 << 16);
        long limit = request.Count > 0 ? request.Count : long.MaxValue;
        long sent = 0;
        string ended;
        while (true)
        {
            int n = session.DrainTo(output, limit - sent);
            sent += n;
            if (sent >= limit)
            {
                ended = "count";
                break;
            }
            if (stopping.IsCancellationRequested)
            {
                ended = "appliance stopping";
                break;
            }
            output.Flush();
            // Anything the client sends means stop; end of stream means it went away. Waiting here is the idle sleep.
            if (socket.Poll(n > 0 ? 0 : 20_000, SelectMode.SelectRead))
            {
                if (socket.Available == 0)
                    return;
                ended = "stopped";
                break;
            }
        }
        session.Dispose();
        if (sent < limit)
            sent += session.DrainTo(output, limit - sent);
        var summary = new CaptureSummary(sent, session.Dropped, ended);
        CaptureMessage.WriteEnd(output, JsonSerializer.SerializeToUtf8Bytes(summary, ControlJson.Default.CaptureSummary));
        output.Flush();
    }

    private static string Error(string message) => JsonSerializer.Serialize(new ControlError(message), ControlJson.Default.ControlError);

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
