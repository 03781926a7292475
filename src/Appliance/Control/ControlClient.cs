using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace XdpStack.Appliance.Control;

/// <summary>A connection to a running appliance's control socket, for <c>show</c>, <c>stats</c> and <c>capture</c>.</summary>
internal sealed class ControlClient : IDisposable
{
    private readonly Socket _socket;

    private ControlClient(string path, Socket socket)
    {
        Path = path;
        _socket = socket;
        Stream = new BufferedStream(new NetworkStream(socket, ownsSocket: false), 1 << 16);
    }

    public string Path { get; }

    /// <summary>The connection, buffered: reply lines and then, for a capture, its binary messages.</summary>
    public Stream Stream { get; }

    /// <summary>The environment variable that moves the control socket for <c>run</c> and the commands alike, as <c>--socket</c> does.</summary>
    public const string SocketVariable = "XDPSTACK_SOCKET";

    /// <summary>The socket path when no <c>--socket</c> is given: <see cref="SocketVariable"/> if set, else <see cref="ControlServer.DefaultPath"/>.</summary>
    public static string DefaultPath =>
        Environment.GetEnvironmentVariable(SocketVariable) is { Length: > 0 } path ? path : ControlServer.DefaultPath;

    /// <summary>The <c>--socket PATH</c> option every command that talks to the appliance takes.</summary>
    public static Option<string> SocketOption(string description) => new("--socket")
    {
        Description = description + $" (default ${SocketVariable} or {ControlServer.DefaultPath})",
        DefaultValueFactory = _ => DefaultPath,
        HelpName = "PATH",
    };

    /// <summary>Connects to the appliance listening on <paramref name="path"/>, with an error an operator can act on when none does.</summary>
    public static ControlClient Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ApplianceException(e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported when !File.Exists(path) =>
                    $"no control socket at {path}: is 'xdpstack run' running (with --socket {path})?",
                SocketError.ConnectionRefused => $"{path}: nobody is listening (left by an appliance that was killed?); start 'xdpstack run'",
                SocketError.AccessDenied => $"{path}: permission denied: the control socket is root's (run as root)",
                _ when !File.Exists(path) => $"no control socket at {path}: is 'xdpstack run' running (with --socket {path})?",
                _ => $"{path}: connect failed: {e.Message}",
            }, e);
        }
        return new ControlClient(path, socket);
    }

    /// <summary>Sends one request line and parses the reply as <typeparamref name="T"/>; an error reply becomes an <see cref="ApplianceException"/>.</summary>
    public T Request<T>(string request, JsonTypeInfo<T> type) => Parse(RequestLine(request), type);

    /// <summary>Sends one request line and returns the reply line as it came.</summary>
    public string RequestLine(string request)
    {
        ControlLine.Write(Stream, request);
        return ReadLine();
    }

    /// <summary>The next reply line; the appliance closing the connection is an error.</summary>
    public string ReadLine() =>
        ControlLine.Read(Stream, ControlLine.MaxReply) ?? throw new ApplianceException($"{Path}: the appliance closed the connection (stopping?)");

    /// <summary>Throws the appliance's message when <paramref name="line"/> is an error reply (or no JSON at all).</summary>
    public static void ThrowIfError(string line)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out JsonElement error))
                throw new ApplianceException(error.GetString() ?? "the appliance refused the request");
        }
        catch (JsonException e)
        {
            throw new ApplianceException("the appliance sent a reply that is not JSON: " + e.Message, e);
        }
    }

    /// <summary>Parses a reply line, turning <c>{"error": …}</c> into an exception.</summary>
    public static T Parse<T>(string line, JsonTypeInfo<T> type)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out JsonElement error))
                throw new ApplianceException(error.GetString() ?? "the appliance refused the request");
            return document.RootElement.Deserialize(type) ?? throw new ApplianceException("the appliance sent an empty reply");
        }
        catch (JsonException e)
        {
            throw new ApplianceException("the appliance sent a reply that is not the expected JSON: " + e.Message, e);
        }
    }

    /// <summary>Tells a running capture to stop; safe from another thread than the reader's.</summary>
    public void SendStop()
    {
        try
        {
            _socket.Send("stop\n"u8);
        }
        catch (SocketException)
        {
            // Already closed: the capture is over anyway.
        }
    }

    public void Dispose()
    {
        Stream.Dispose();
        _socket.Dispose();
    }
}
