namespace XdpStack.Stack.Transport.Tcp.Services;

/// <summary>How long an <see cref="HttpResponder"/> waits on a client before it closes the connection; nginx's directives of the same names, and their defaults.</summary>
/// <param name="KeepAlive">An idle connection between requests (<c>keepalive_timeout</c>, 75 s).</param>
/// <param name="ClientHeader">From the first octet of a request head (or the connection's start) to its end (<c>client_header_timeout</c>, 60 s).</param>
/// <param name="ClientBody">Between two reads of a request body (<c>client_body_timeout</c>, 60 s).</param>
/// <param name="Send">Between two writes of a response the client does not take (<c>send_timeout</c>, 60 s).</param>
/// <remarks>
/// Each closes with a FIN and sends nothing else, as nginx. <see cref="TimeSpan.Zero"/> turns that limit off. After a
/// close with more of the client's data still coming (a pipelined request after <c>Connection: close</c>, a refused
/// request's body) the responder reads and drops it for up to <see cref="LingeringTime"/>, giving up after
/// <see cref="LingeringTimeout"/> of silence (nginx's <c>lingering_close on</c>), so that the client reads the answer
/// rather than a RST for data the server would not read.
/// </remarks>
public sealed record HttpTimeouts(TimeSpan KeepAlive, TimeSpan ClientHeader, TimeSpan ClientBody, TimeSpan Send)
{
    /// <summary>nginx's defaults: 75, 60, 60 and 60 s.</summary>
    public static readonly HttpTimeouts Nginx = new(TimeSpan.FromSeconds(75), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60));

    /// <summary>The longest a closing connection drops what the client still sends (nginx's <c>lingering_time</c>, 30 s).</summary>
    public TimeSpan LingeringTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest silence while lingering (nginx's <c>lingering_timeout</c>, 5 s).</summary>
    public TimeSpan LingeringTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Why the values cannot be used, or null.</summary>
    public string? Validate()
    {
        foreach ((string name, TimeSpan value) in (ReadOnlySpan<(string, TimeSpan)>)[("keepalive_timeout", KeepAlive), ("client_header_timeout", ClientHeader),
            ("client_body_timeout", ClientBody), ("send_timeout", Send), ("lingering_time", LingeringTime), ("lingering_timeout", LingeringTimeout)])
        {
            if (value < TimeSpan.Zero || value > TimeSpan.FromDays(1))
                return $"{name} {value.TotalSeconds} s is not between 0 and 86400 s";
        }
        return null;
    }
}
