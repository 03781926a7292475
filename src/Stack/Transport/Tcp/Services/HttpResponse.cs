namespace XdpStack.Stack.Transport.Tcp.Services;

/// <summary>The fixed response of an <see cref="HttpResponder"/>: status, extra header lines, and the body's size (its octets are filler); and how long it waits on clients.</summary>
/// <param name="Status">The status code, 200 to 599.</param>
/// <param name="BodyBytes">Octets of body; 0 for none (and always 0 for 204 and 304).</param>
/// <param name="Headers">Extra header lines, each "Name: value", sent after Server, Date and Content-Length (a Date among them replaces the current one).</param>
/// <param name="Timeouts">The connection's limits on slow or idle clients; null for nginx's defaults (<see cref="HttpTimeouts.Nginx"/>).</param>
public sealed record HttpResponse(int Status = 200, long BodyBytes = 0, IReadOnlyList<string>? Headers = null, HttpTimeouts? Timeouts = null)
{
    /// <summary>Whether the record describes a response HTTP/1.1 allows (RFC 9110 §15: 204 and 304 carry no body); the reason when not.</summary>
    public string? Validate()
    {
        if (Status is < 200 or > 599)
            return $"status {Status} is not a final status code (200 to 599)";
        if (BodyBytes < 0)
            return "body size is negative";
        if (Status is 204 or 304 && BodyBytes != 0)
            return $"status {Status} has no body";
        if (Timeouts?.Validate() is { } timeouts)
            return timeouts;
        foreach (string line in Headers ?? [])
        {
            int colon = line.IndexOf(':');
            if (colon <= 0 || line.AsSpan(0, colon).ContainsAny(" \t\r\n") || line.AsSpan(colon).ContainsAny("\r\n") || line.Any(c => c > 0x7e))
                return $"header '{line}' is not one 'Name: value' line of printable ASCII";
        }
        return null;
    }

    public bool Equals(HttpResponse? other) =>
        other is not null && Status == other.Status && BodyBytes == other.BodyBytes
        && (Headers ?? []).SequenceEqual(other.Headers ?? []) && (Timeouts ?? HttpTimeouts.Nginx) == (other.Timeouts ?? HttpTimeouts.Nginx);

    public override int GetHashCode() => HashCode.Combine(Status, BodyBytes, (Headers ?? []).Count);
}
