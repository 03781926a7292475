using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Config;

/// <summary>What a responder service does with what it receives.</summary>
/// <remarks>New kinds get a value here and a row in <see cref="ServiceKinds"/>.</remarks>
internal enum ServiceKind
{
    /// <summary>Sends every UDP datagram back to its sender (RFC 862).</summary>
    UdpEcho,

    /// <summary>Counts and drops every UDP datagram (RFC 863).</summary>
    UdpDiscard,

    /// <summary>Answers every HTTP/1.1 request on a TCP port with one fixed response.</summary>
    Http,

    /// <summary>Sends every octet of a TCP connection back (RFC 862).</summary>
    TcpEcho,

    /// <summary>Consumes every octet of a TCP connection (RFC 863).</summary>
    TcpDiscard,
}

/// <summary>The config names of the <see cref="ServiceKind"/>s and the transport each uses.</summary>
internal static class ServiceKinds
{
    private static readonly (ServiceKind Kind, string Name, IpProtocol Protocol)[] s_kinds =
    [
        (ServiceKind.UdpEcho, "udp-echo", IpProtocol.Udp),
        (ServiceKind.UdpDiscard, "udp-discard", IpProtocol.Udp),
        (ServiceKind.Http, "http", IpProtocol.Tcp),
        (ServiceKind.TcpEcho, "tcp-echo", IpProtocol.Tcp),
        (ServiceKind.TcpDiscard, "tcp-discard", IpProtocol.Tcp),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. s_kinds.Select(k => k.Name)];

    public static ServiceKind FromIndex(int index) => s_kinds[index].Kind;

    public static string Name(this ServiceKind kind) => s_kinds.First(k => k.Kind == kind).Name;

    public static IpProtocol Protocol(this ServiceKind kind) => s_kinds.First(k => k.Kind == kind).Protocol;
}
