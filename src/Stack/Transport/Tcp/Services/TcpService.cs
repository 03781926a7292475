namespace XdpStack.Stack.Transport.Tcp.Services;

/// <summary>One registration of a TCP responder, as given to <see cref="TcpProtocol.AddService"/>.</summary>
/// <param name="Kind">What it does.</param>
/// <param name="Port">The local port it listens on.</param>
/// <param name="LocalAddress">The one local address it answers on; null for every address of both families.</param>
/// <param name="Http">The response of an <see cref="TcpServiceKind.Http"/> service; null for the other kinds.</param>
/// <param name="Backlog">Half-open connections per worker; null for <see cref="TcpSettings.Backlog"/>.</param>
/// <param name="SynCookies">When SYNs get cookies; null for <see cref="TcpSettings.SynCookies"/>.</param>
/// <param name="KeepAlive">Keep-alive of its connections; null for <see cref="TcpSettings.KeepAlive"/>.</param>
/// <param name="CongestionControl">Its connections' congestion control; null for <see cref="TcpSettings.CongestionControl"/>.</param>
public sealed record TcpService(TcpServiceKind Kind, ushort Port, IpAddress? LocalAddress = null, HttpResponse? Http = null,
    int? Backlog = null, TcpSynCookieMode? SynCookies = null, TcpKeepAlive? KeepAlive = null, TcpCongestionControl? CongestionControl = null)
{
    internal ITcpApplication CreateApplication(int workers) => Kind switch
    {
        TcpServiceKind.Echo => TcpEchoResponder.Instance,
        TcpServiceKind.Discard => TcpDiscardResponder.Instance,
        TcpServiceKind.Http => new HttpResponder(Http ?? new HttpResponse(), workers),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "not a TCP service kind"),
    };
}
