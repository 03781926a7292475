using XdpStack.Stack;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;

namespace XdpStack.Appliance.Config;

/// <summary>One <c>[[service]]</c>: a responder bound to a port, on one local address or on all of them.</summary>
/// <param name="Kind">What it does.</param>
/// <param name="Port">The local port, 1 to 65535.</param>
/// <param name="Address">The local address it answers on, or null for every address of every interface.</param>
/// <param name="Http">The response of an <c>http</c> service (status, body size, extra headers); null for the other kinds.</param>
/// <param name="Backlog">A TCP service's half-open connections per worker; null for the stack's default.</param>
/// <param name="SynCookies">When a TCP service answers SYNs with cookies; null for the stack's default.</param>
/// <param name="KeepAlive">Keep-alive of a TCP service's connections; null for none.</param>
/// <param name="CongestionControl">A TCP service's congestion control; null for the stack's default (CUBIC).</param>
internal sealed record ServiceConfig(ServiceKind Kind, int Port, IpAddress? Address, HttpResponse? Http = null,
    int? Backlog = null, TcpSynCookieMode? SynCookies = null, TcpKeepAlive? KeepAlive = null, TcpCongestionControl? CongestionControl = null)
{
    public override string ToString() =>
        $"{Kind.Name()} on {(Address is { } a ? a.ToString() : "*")} port {Port}"
        + (Http is { } h ? $" (status {h.Status}, {h.BodyBytes}-byte body{((h.Headers?.Count ?? 0) > 0 ? $", {h.Headers!.Count} header(s)" : "")})" : "")
        + (Http?.Timeouts is { } t ? $" timeouts keepalive {t.KeepAlive.TotalSeconds}/header {t.ClientHeader.TotalSeconds}/body {t.ClientBody.TotalSeconds}/send {t.Send.TotalSeconds} s" : "")
        + (Backlog is { } b ? $" backlog {b}" : "")
        + (SynCookies is { } c ? $" syn_cookies {ConfigBinder.SynCookieNames[(int)c]}" : "")
        + (KeepAlive is { } k ? $" keepalive {k.Idle.TotalSeconds}/{k.Interval.TotalSeconds}/{k.Count}" : "")
        + (CongestionControl is { } cc ? $" congestion_control {ConfigBinder.CongestionControlNames[(int)cc]}" : "");
}
