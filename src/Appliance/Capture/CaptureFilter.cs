using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using XdpStack.Stack;
using XdpStack.Stack.Wire;

namespace XdpStack.Appliance.Capture;

/// <summary>The frames a capture keeps: a conjunction of at most one protocol, one host and one port, in tcpdump's words.</summary>
/// <remarks>
/// <para>
/// The text form is tcpdump's for the primitives it supports, joined by an optional <c>and</c>: <c>icmp</c>,
/// <c>udp</c>, <c>tcp</c>, <c>arp</c>, <c>ip</c>, <c>ip6</c>, <c>host ADDR</c> (source or destination, IPv4 or
/// IPv6; for ARP the sender or target protocol address), <c>port N</c> (UDP or TCP source or destination port).
/// <c>or</c>, <c>not</c> and parentheses are not supported; an empty filter keeps everything.
/// </para>
/// <para>
/// <see cref="Matches"/> runs on worker threads for every frame of a captured queue: it reads the headers in place,
/// allocates nothing and never throws. It reads headers only (a frame may be cut: the first buffer of a
/// multi-buffer chain), looks at the header right after the IPv6 header only (a packet with extension headers
/// matches no <c>icmp</c>, <c>udp</c>, <c>tcp</c> or <c>port</c>), and a non-first IPv4 fragment has no ports.
/// </para>
/// </remarks>
internal readonly struct CaptureFilter
{
    // RFC 791 §3.1 and RFC 8200 §3 header offsets.
    private const int Ipv4MinHeader = 20, Ipv4FragmentOffset = 6, Ipv4Protocol = 9, Ipv4Source = 12, Ipv4Destination = 16;
    private const int Ipv6Header = 40, Ipv6NextHeader = 6, Ipv6Source = 8, Ipv6Destination = 24;

    private readonly IpAddress _host;

    private CaptureFilter(CaptureProtocol protocol, IpAddress? host, int port)
    {
        Protocol = protocol;
        HasHost = host.HasValue;
        _host = host.GetValueOrDefault();
        Port = port;
    }

    /// <summary>A filter that keeps every frame.</summary>
    public static CaptureFilter All => new(CaptureProtocol.Any, null, -1);

    public CaptureProtocol Protocol { get; }

    public bool HasHost { get; }

    /// <summary>The address a frame's source or destination must be, when <see cref="HasHost"/>.</summary>
    public IpAddress Host => _host;

    /// <summary>The UDP or TCP port a frame's source or destination must be, or −1.</summary>
    public int Port { get; }

    /// <summary>Parses the text form; false with a message naming the word it could not take.</summary>
    public static bool TryParse(string? text, out CaptureFilter filter, [NotNullWhen(false)] out string? error)
    {
        filter = All;
        error = null;
        string[] words = (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        CaptureProtocol protocol = CaptureProtocol.Any;
        IpAddress? host = null;
        int port = -1;
        for (int i = 0; i < words.Length; i++)
        {
            string word = words[i].ToLowerInvariant();
            switch (word)
            {
                case "and" when i > 0 && i < words.Length - 1:
                    continue;
                case "or" or "not" or "!" or "(" or ")":
                    error = $"filter: '{words[i]}' is not supported: one protocol, one host and one port at most, joined by 'and'";
                    return false;
                case "icmp" or "icmp6" or "udp" or "tcp" or "arp" or "ip" or "ip6":
                    CaptureProtocol p = word switch
                    {
                        "icmp" or "icmp6" => CaptureProtocol.Icmp,
                        "udp" => CaptureProtocol.Udp,
                        "tcp" => CaptureProtocol.Tcp,
                        "arp" => CaptureProtocol.Arp,
                        "ip" => CaptureProtocol.Ip,
                        _ => CaptureProtocol.Ip6,
                    };
                    if (protocol != CaptureProtocol.Any && protocol != p)
                    {
                        error = $"filter: '{word}' after '{Name(protocol)}': only one protocol (no 'or')";
                        return false;
                    }
                    protocol = p;
                    continue;
                case "host":
                    if (i + 1 >= words.Length || !TryParseAddress(words[i + 1], out IpAddress address))
                    {
                        error = $"filter: 'host' needs an IPv4 or IPv6 address{(i + 1 < words.Length ? $", not '{words[i + 1]}'" : "")}";
                        return false;
                    }
                    if (host.HasValue && host.Value != address)
                    {
                        error = "filter: one 'host' at most (no 'or')";
                        return false;
                    }
                    host = address;
                    i++;
                    continue;
                case "port":
                    if (i + 1 >= words.Length || !int.TryParse(words[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 0 or > 65535)
                    {
                        error = $"filter: 'port' needs a number from 0 to 65535{(i + 1 < words.Length ? $", not '{words[i + 1]}'" : "")}";
                        return false;
                    }
                    if (port >= 0 && port != n)
                    {
                        error = "filter: one 'port' at most (no 'or')";
                        return false;
                    }
                    port = n;
                    i++;
                    continue;
                default:
                    error = $"filter: '{words[i]}' is not understood (known: icmp, udp, tcp, arp, ip, ip6, host ADDR, port N, joined by 'and')";
                    return false;
            }
        }
        if (port >= 0 && protocol is CaptureProtocol.Arp or CaptureProtocol.Icmp)
        {
            error = $"filter: '{Name(protocol)}' has no ports";
            return false;
        }
        if (host is { } h && (h.IsIpv4 ? protocol == CaptureProtocol.Ip6 : protocol is CaptureProtocol.Ip or CaptureProtocol.Arp))
        {
            error = $"filter: host {h} can never be in '{Name(protocol)}'";
            return false;
        }
        filter = new CaptureFilter(protocol, host, port);
        return true;
    }

    /// <summary>Whether the frame passes; any frame too short or malformed for a header the filter needs does not.</summary>
    public bool Matches(Span<byte> frame)
    {
        if (Protocol == CaptureProtocol.Any && !HasHost && Port < 0)
            return true;
        if (!EthernetFrame.TryCreate(frame, out EthernetFrame ethernet, out _))
            return false;
        return ethernet.EtherType switch
        {
            EtherType.Ipv4 => MatchesIpv4(ethernet.Payload),
            EtherType.Ipv6 => MatchesIpv6(ethernet.Payload),
            EtherType.Arp => MatchesArp(ethernet.Payload),
            _ => false,
        };
    }

    /// <summary>The filter in its text form, as <see cref="TryParse"/> reads it; empty for <see cref="All"/>.</summary>
    public override string ToString()
    {
        var words = new List<string>();
        if (Protocol != CaptureProtocol.Any)
            words.Add(Name(Protocol));
        if (HasHost)
            words.Add("host " + _host);
        if (Port >= 0)
            words.Add("port " + Port.ToString(CultureInfo.InvariantCulture));
        return string.Join(" and ", words);
    }

    // Headers only, as tcpdump's filters read them: the packet may be cut (a snap length, or the first buffer of a
    // multi-buffer chain), so neither the total length nor a checksum is checked.
    private bool MatchesIpv4(Span<byte> packet)
    {
        if (Protocol is CaptureProtocol.Ip6 or CaptureProtocol.Arp || packet.Length < Ipv4MinHeader || packet[0] >> 4 != 4)
            return false;
        int headerLength = (packet[0] & 0xF) * 4;
        if (headerLength < Ipv4MinHeader)
            return false;
        if (HasHost && (!_host.IsIpv4 || (Ipv4Address.Read(packet[Ipv4Source..]) != _host.V4 && Ipv4Address.Read(packet[Ipv4Destination..]) != _host.V4)))
            return false;
        if (!MatchesTransport((IpProtocol)packet[Ipv4Protocol], CaptureProtocol.Ip, IpProtocol.Icmp))
            return false;
        bool firstFragment = (BinaryPrimitives.ReadUInt16BigEndian(packet[Ipv4FragmentOffset..]) & 0x1FFF) == 0;
        return Port < 0 || (firstFragment && packet.Length >= headerLength && MatchesPorts(packet[headerLength..]));
    }

    private bool MatchesIpv6(Span<byte> packet)
    {
        if (Protocol is CaptureProtocol.Ip or CaptureProtocol.Arp || packet.Length < Ipv6Header || packet[0] >> 4 != 6)
            return false;
        if (HasHost && (_host.IsIpv4 || (new Ipv6Address(packet.Slice(Ipv6Source, 16)) != _host.V6 && new Ipv6Address(packet.Slice(Ipv6Destination, 16)) != _host.V6)))
            return false;
        return MatchesTransport((IpProtocol)packet[Ipv6NextHeader], CaptureProtocol.Ip6, IpProtocol.Icmpv6) && (Port < 0 || MatchesPorts(packet[Ipv6Header..]));
    }

    private bool MatchesTransport(IpProtocol next, CaptureProtocol family, IpProtocol icmp)
    {
        bool protocolOk = Protocol switch
        {
            CaptureProtocol.Any => true,
            CaptureProtocol.Icmp => next == icmp,
            CaptureProtocol.Udp => next == IpProtocol.Udp,
            CaptureProtocol.Tcp => next == IpProtocol.Tcp,
            _ => Protocol == family,
        };
        return protocolOk && (Port < 0 || next is IpProtocol.Udp or IpProtocol.Tcp);
    }

    // UDP and TCP both start with the source port and the destination port.
    private bool MatchesPorts(Span<byte> transport) =>
        transport.Length >= 4 &&
        (BinaryPrimitives.ReadUInt16BigEndian(transport) == Port || BinaryPrimitives.ReadUInt16BigEndian(transport[2..]) == Port);

    private bool MatchesArp(Span<byte> payload)
    {
        if (Protocol is not (CaptureProtocol.Any or CaptureProtocol.Arp) || Port >= 0 || !ArpPacket.TryCreate(payload, out ArpPacket arp, out _))
            return false;
        return !HasHost || (_host.IsIpv4 && (arp.SenderProtocolAddress == _host.V4 || arp.TargetProtocolAddress == _host.V4));
    }

    private static bool TryParseAddress(string text, out IpAddress address)
    {
        if (Ipv4Address.TryParse(text, out Ipv4Address v4))
        {
            address = v4;
            return true;
        }
        if (Ipv6Address.TryParse(text, out Ipv6Address v6))
        {
            address = v6;
            return true;
        }
        address = default;
        return false;
    }

    private static string Name(CaptureProtocol protocol) => protocol.ToString().ToLowerInvariant();
}
