using System.Net;
using System.Net.Sockets;
using System.Text;
using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Metrics;

/// <summary>The management listener: a small HTTP/1.1 server on the kernel's TCP stack that answers <c>GET /metrics</c>.</summary>
/// <remarks>
/// <para>
/// One dedicated control thread accepts and answers one connection at a time (Prometheus scrapes one target
/// sequentially), kept off the workers' CPUs when any other CPU is allowed. It is a plain socket rather than
/// prometheus-net's <c>MetricServer</c>: that one rides on <c>HttpListener</c>, which runs its I/O on the thread pool
/// and routes by the Host header (a scraper naming the host differently from the configured address gets a 400),
/// and which reports a port in use less plainly. Each answer closes its connection; a client that stalls is cut off
/// after <see cref="ClientTimeoutMilliseconds"/>.
/// </para>
/// <para>
/// The socket is bound with SO_REUSEADDR (set alone: .NET's ReuseAddress option adds SO_REUSEPORT, which would let a
/// second appliance share the port silently), so a restart is not refused over connections in TIME_WAIT, while a port
/// another process listens on still is.
/// </para>
/// </remarks>
internal sealed class MetricsListener : IDisposable
{
    /// <summary>How long one client may take to send its request or read the answer.</summary>
    public const int ClientTimeoutMilliseconds = 5000;

    private const int SOL_SOCKET = 1;
    private const int SO_REUSEADDR = 2;
    private const int MaxRequestBytes = 8192;

    private readonly Socket _socket;
    private readonly ApplianceMetrics _metrics;
    private readonly int[] _avoidCpus;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile Socket? _client;
    // One body buffer for every scrape (there is one serving thread): a fresh one each time would put a growing series
    // of arrays on the heap, and past 85,000 bytes (a few more interfaces) on the large-object heap, whose budget, once
    // spent, costs a full collection.
    private readonly MemoryStream _body = new();
    private readonly byte[] _request = new byte[MaxRequestBytes];

    private MetricsListener(Socket socket, ApplianceMetrics metrics, int[] avoidCpus)
    {
        _socket = socket;
        _metrics = metrics;
        _avoidCpus = avoidCpus;
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
        _thread = new Thread(Serve) { IsBackground = true, Name = "xdpstack metrics" };
    }

    /// <summary>The address and port bound (the port the kernel chose when asked for 0).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>Binds <paramref name="endpoint"/> and starts serving <paramref name="metrics"/>.</summary>
    /// <param name="endpoint">Where to listen.</param>
    /// <param name="metrics">What to serve.</param>
    /// <param name="setting">How the user set the address (<c>[management] listen</c>, <c>--metrics</c>), for the error.</param>
    /// <param name="avoidCpus">The workers' CPUs, which the listener's thread stays off when it can.</param>
    /// <exception cref="ApplianceException">The address cannot be bound (in use, not on this host).</exception>
    public static MetricsListener Start(IPEndPoint endpoint, ApplianceMetrics metrics, string setting, IEnumerable<int> avoidCpus)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetRawSocketOption(SOL_SOCKET, SO_REUSEADDR, BitConverter.GetBytes(1));
            socket.Bind(endpoint);
            socket.Listen(16);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string hint = e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? "another process (another xdpstack?) listens there; choose another address or port, or set it to \"\" to serve no metrics"
                : "choose an address this host has, or set it to \"\" to serve no metrics";
            throw new ApplianceException($"cannot serve metrics on {Format(endpoint)} ({setting}): {e.Message}; {hint}", e);
        }
        var listener = new MetricsListener(socket, metrics, [.. avoidCpus]);
        listener._thread.Start();
        return listener;
    }

    /// <summary>ADDRESS:PORT, with IPv6 in brackets.</summary>
    public static string Format(IPEndPoint endpoint) =>
        endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : $"{endpoint.Address}:{endpoint.Port}";

    /// <summary>Stops accepting, cuts off a client still being answered (a stalled one must not hold up a SIGTERM), and waits for the thread.</summary>
    public void Dispose()
    {
        _stopping = true;
        _client?.Dispose();
        _thread.Join();
        _socket.Dispose();
        _body.Dispose();
    }

    private void Serve()
    {
        CpuAffinity.AvoidOnCurrentThread(_avoidCpus);
        while (!_stopping)
        {
            // A bounded wait instead of a blocking accept, so Dispose needs no help to end the loop.
            if (!_socket.Poll(200_000, SelectMode.SelectRead))
                continue;
            Socket client;
            try
            {
                client = _socket.Accept();
            }
            catch (SocketException)
            {
                continue;
            }
            using (client)
            {
                _client = client;
                try
                {
                    if (!_stopping)
                        Answer(client);
                }
                catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
                {
                    // The client went away or stalled, or the listener is stopping: nothing to answer.
                }
                finally
                {
                    _client = null;
                }
            }
        }
    }

    private void Answer(Socket client)
    {
        client.ReceiveTimeout = ClientTimeoutMilliseconds;
        client.SendTimeout = ClientTimeoutMilliseconds;
        string? requestLine = ReadRequestLine(client);
        if (requestLine is null)
            return;
        string[] parts = requestLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            Send(client, "400 Bad Request", "text/plain; charset=utf-8", "bad request\n"u8.ToArray());
            return;
        }
        string path = parts[1];
        int query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
            path = path[..query];
        if (parts[0] != "GET")
        {
            Send(client, "405 Method Not Allowed", "text/plain; charset=utf-8", "only GET is served\n"u8.ToArray(), "Allow: GET\r\n");
            return;
        }
        if (path == "/")
        {
            Send(client, "200 OK", "text/plain; charset=utf-8", "xdpstack: metrics are at /metrics\n"u8.ToArray());
            return;
        }
        if (path != "/metrics")
        {
            Send(client, "404 Not Found", "text/plain; charset=utf-8", "not found: metrics are at /metrics\n"u8.ToArray());
            return;
        }
        _body.SetLength(0);
        try
        {
            _metrics.ExportAsync(_body).GetAwaiter().GetResult();
        }
        catch (InvalidOperationException e)
        {
            // A collection bug must not end the listener (nor the appliance); the scrape fails visibly instead.
            Send(client, "500 Internal Server Error", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"collection failed: {e.GetType().Name}: {e.Message}\n"));
            return;
        }
        Send(client, "200 OK", "text/plain; version=0.0.4; charset=utf-8", _body.GetBuffer().AsSpan(0, (int)_body.Length));
    }

    /// <summary>Reads the request head and returns its first line, or null when the client sent none.</summary>
    private string? ReadRequestLine(Socket client)
    {
        byte[] buffer = _request;
        int length = 0;
        while (length < buffer.Length)
        {
            int n = client.Receive(buffer, length, buffer.Length - length, SocketFlags.None);
            if (n == 0)
                break;
            length += n;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
                break;
        }
        int end = buffer.AsSpan(0, length).IndexOf("\r\n"u8);
        return end <= 0 ? null : Encoding.ASCII.GetString(buffer, 0, end);
    }

    private static void Send(Socket client, string status, string contentType, ReadOnlySpan<byte> body, string extraHeaders = "")
    {
        string head = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n{extraHeaders}\r\n";
        client.Send(Encoding.ASCII.GetBytes(head));
        client.Send(body);
        client.Shutdown(SocketShutdown.Send);
    }
}
