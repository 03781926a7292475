using XdpStack.Stack;
using XdpStack.Appliance.Config.Toml;
using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

internal sealed partial class ConfigBinder
{
    private void ReadService(TableReader reader)
    {
        var draft = new ServiceDraft { Position = reader.Position };
        if (reader.Value("kind") is null)
            _errors.Add(reader.Position, $"[[service]] needs 'kind' (one of {string.Join(", ", ServiceKinds.Names)})");
        else if (reader.Choice("kind", ServiceKinds.Names) is { } kind)
            draft.Kind = ServiceKinds.FromIndex(kind.Value);
        if (reader.Value("port") is null)
            _errors.Add(reader.Position, "[[service]] needs 'port' (the local port, 1 to 65535)");
        else if (reader.Integer("port", 1, 65535) is { } port)
            draft.Port = new((int)port.Value, port.Position);
        if (reader.String("address") is { } address)
        {
            if (!ConfigValueParser.TryParseAddress(address.Value, out IpAddress ip, out string? error))
                _errors.Add(address.Position, $"'address' in [[service]]: {error}");
            else
                draft.Address = new(ip, address.Position);
        }
        ReadHttpResponse(reader, draft);
        ReadTcpListen(reader, draft);
        reader.ReportUnknownKeys();
        _services.Add(draft);
    }

    // status, body_bytes and headers: the fixed response of an "http" service, and only of one.
    private void ReadHttpResponse(TableReader reader, ServiceDraft draft)
    {
        Located<long>? status = reader.Integer("status", 200, 599);
        Located<long>? body = reader.Integer("body_bytes", 0, 1L << 40);
        var headers = new List<string>();
        SourcePosition? headersAt = null;
        if (reader.Array("headers", "an array of header lines such as [\"Content-Type: text/plain\"]") is { } array)
        {
            headersAt = array.Position;
            foreach (TomlValue item in array.Items)
            {
                if (item is TomlString text)
                    headers.Add(text.Value);
                else
                    _errors.Add(item.Position, $"'headers' in [[service]] must list strings such as \"Content-Type: text/plain\", not {item.TypeName}");
            }
        }
        // nginx's names and defaults; whole seconds, 0 for no limit.
        Located<long>? keepAlive = reader.Integer("keepalive_timeout", 0, 86400);
        Located<long>? header = reader.Integer("client_header_timeout", 0, 86400);
        Located<long>? bodyTimeout = reader.Integer("client_body_timeout", 0, 86400);
        Located<long>? send = reader.Integer("send_timeout", 0, 86400);
        if (draft.Kind is not ServiceKind.Http)
        {
            if (draft.Kind is { } other)
            {
                foreach ((string key, SourcePosition? at) in (ReadOnlySpan<(string, SourcePosition?)>)[("status", status?.Position), ("body_bytes", body?.Position), ("headers", headersAt),
                    ("keepalive_timeout", keepAlive?.Position), ("client_header_timeout", header?.Position), ("client_body_timeout", bodyTimeout?.Position), ("send_timeout", send?.Position)])
                {
                    if (at is { } position)
                        _errors.Add(position, $"'{key}' applies only to kind = \"http\", not \"{other.Name()}\"");
                }
            }
            return;
        }
        HttpTimeouts nginx = HttpTimeouts.Nginx;
        var timeouts = new HttpTimeouts(
            keepAlive is { } k ? TimeSpan.FromSeconds(k.Value) : nginx.KeepAlive,
            header is { } h ? TimeSpan.FromSeconds(h.Value) : nginx.ClientHeader,
            bodyTimeout is { } b ? TimeSpan.FromSeconds(b.Value) : nginx.ClientBody,
            send is { } t ? TimeSpan.FromSeconds(t.Value) : nginx.Send);
        var response = new HttpResponse((int)(status?.Value ?? 200), body?.Value ?? 0, headers, timeouts == nginx ? null : timeouts);
        if (response.Validate() is { } error)
            _errors.Add(status?.Position ?? body?.Position ?? headersAt ?? reader.Position, $"[[service]] http response: {error}");
        else
            draft.Http = response;
    }

    /// <summary>The values of <c>syn_cookies</c>, in the order of <see cref="TcpSynCookieMode"/> (Linux's <c>tcp_syncookies</c> 0, 1, 2).</summary>
    internal static readonly string[] SynCookieNames = ["off", "on-overflow", "always"];

    /// <summary>The values of <c>congestion_control</c>, in the order of <see cref="TcpCongestionControl"/> (Linux's names).</summary>
    internal static readonly string[] CongestionControlNames = ["cubic", "newreno"];

    // backlog, syn_cookies, keepalive_* and congestion_control: how a TCP service's listener meets SYNs, watches idle
    // peers and paces its connections, and only a TCP one's.
    // The keep-alive limits are Linux's for TCP_KEEPIDLE, TCP_KEEPINTVL (1 to 32767 s) and TCP_KEEPCNT (1 to 127).
    private void ReadTcpListen(TableReader reader, ServiceDraft draft)
    {
        Located<long>? backlog = reader.Integer("backlog", 1, 1 << 20);
        Located<int>? cookies = reader.Choice("syn_cookies", SynCookieNames);
        Located<long>? idle = reader.Integer("keepalive_idle", 1, 32767);
        Located<long>? interval = reader.Integer("keepalive_interval", 1, 32767);
        Located<long>? count = reader.Integer("keepalive_count", 1, 127);
        Located<int>? congestion = reader.Choice("congestion_control", CongestionControlNames);
        if (draft.Kind is { } kind && kind.Protocol() != IpProtocol.Tcp)
        {
            foreach ((string key, SourcePosition? at) in (ReadOnlySpan<(string, SourcePosition?)>)[("backlog", backlog?.Position), ("syn_cookies", cookies?.Position),
                ("keepalive_idle", idle?.Position), ("keepalive_interval", interval?.Position), ("keepalive_count", count?.Position),
                ("congestion_control", congestion?.Position)])
            {
                if (at is { } position)
                    _errors.Add(position, $"'{key}' applies only to TCP services, not \"{kind.Name()}\"");
            }
            return;
        }
        draft.Backlog = (int?)backlog?.Value;
        draft.SynCookies = cookies is { } c ? (TcpSynCookieMode)c.Value : null;
        draft.CongestionControl = congestion is { } cc ? (TcpCongestionControl)cc.Value : null;
        if (idle is { } i)
        {
            draft.KeepAlive = new TcpKeepAlive(TimeSpan.FromSeconds(i.Value), interval is { } n ? TimeSpan.FromSeconds(n.Value) : TcpKeepAlive.Linux.Interval, (int)(count?.Value ?? TcpKeepAlive.Linux.Count));
        }
        else if ((interval?.Position ?? count?.Position) is { } at)
        {
            _errors.Add(at, "'keepalive_interval' and 'keepalive_count' need 'keepalive_idle', which turns keep-alive on");
        }
    }

    private void CheckServices()
    {
        for (int i = 0; i < _services.Count; i++)
        {
            ServiceDraft service = _services[i];
            if (service.Address is { } address && OwnerOf(address.Value) is null)
                _errors.Add(address.Position, $"service address {address.Value} is not an address of any [[interface]]");
            if (service.Kind is not { } kind || service.Port is not { } port)
                continue;
            // Two services on one port and protocol clash when their addresses overlap: the same
            // address, or either one on every address.
            ServiceDraft? first = _services.Take(i).FirstOrDefault(s =>
                s.Kind is { } k && k.Protocol() == kind.Protocol() && s.Port?.Value == port.Value
                && (s.Address is null || service.Address is null || s.Address.Value.Value == service.Address.Value.Value));
            if (first is not null)
            {
                string protocol = kind.Protocol().ToString().ToLowerInvariant();
                _errors.Add(port.Position, $"{protocol} port {port.Value} {On(service)} is already served by {first.Kind!.Value.Name()} {On(first)} (at {first.Port!.Value.Position})");
            }
        }
    }

    private static string On(ServiceDraft service) => service.Address is { } a ? $"on {a.Value}" : "on every address";
}
