namespace XdpStack.Stack.Wire;

/// <summary>
/// Walks an IPv6 packet's extension-header chain (RFC 8200 §4) to the upper-layer header, rejecting
/// truncated and overlong chains.
/// </summary>
/// <remarks>
/// <para>Hop-by-Hop, Routing, Fragment, Destination Options and AH are walked; any other Next Header value
/// (ESP and No Next Header included) ends the chain as the upper layer. The walk fails with
/// <see cref="WireError.TruncatedExtensionHeader"/> when a header runs past the payload length, with
/// <see cref="WireError.TooManyExtensionHeaders"/> past <see cref="MaxHeaders"/> headers, and with
/// <see cref="WireError.MisplacedHopByHop"/> for a Hop-by-Hop header that is not first (§4.3).</para>
/// <para>A Fragment header with a non-zero offset ends the walk: what follows is fragment data, not headers.
/// A first fragment must hold the whole chain (RFC 7112 §5), so a chain truncated there is an error.</para>
/// <para>Use it as <c>while (reader.MoveNext()) { … reader.Current … }</c>, then read <see cref="Error"/>,
/// <see cref="UpperLayerProtocol"/> and <see cref="UpperLayerOffset"/>; or call <see cref="TryWalk"/>.</para>
/// </remarks>
public ref struct Ipv6ExtensionHeaderReader
{
    /// <summary>
    /// The most extension headers accepted in one packet. RFC 8200 §4.1 recommends each at most once
    /// (Destination Options twice): six, plus room for AH and a second Routing header.
    /// </summary>
    public const int MaxHeaders = 8;

    private readonly Span<byte> _packet;
    private readonly int _end;
    private IpProtocol _next;
    private int _offset;
    private int _count;
    private bool _done;
    private Ipv6ExtensionHeader _current;

    /// <summary>Starts at the first header after the fixed header of a checked packet.</summary>
    public Ipv6ExtensionHeaderReader(Ipv6Packet packet)
    {
        _packet = packet.Packet;
        _end = _packet.Length;
        _next = packet.NextHeader;
        _offset = Ipv6Packet.HeaderLength;
        _count = 0;
        _done = false;
        _current = default;
        Error = WireError.None;
    }

    /// <summary>The header found by the last successful <see cref="MoveNext"/>.</summary>
    public readonly Ipv6ExtensionHeader Current => _current;

    /// <summary>Why the walk stopped early, or <see cref="WireError.None"/> when it reached the upper layer.</summary>
    public WireError Error { get; private set; }

    /// <summary>The upper-layer protocol, once <see cref="MoveNext"/> has returned false without an error.</summary>
    public readonly IpProtocol UpperLayerProtocol => _next;

    /// <summary>Where the upper-layer header (or fragment data) starts, counted from the start of the fixed header.</summary>
    public readonly int UpperLayerOffset => _offset;

    /// <summary>How many extension headers have been read.</summary>
    public readonly int Count => _count;

    /// <summary>True when an extension header is the protocol value walked past (rather than an upper layer).</summary>
    public static bool IsExtensionHeader(IpProtocol protocol) => protocol is IpProtocol.HopByHop or IpProtocol.Ipv6Routing
        or IpProtocol.Ipv6Fragment or IpProtocol.Ipv6DestinationOptions or IpProtocol.Ah;

    /// <summary>Moves to the next extension header; false at the upper layer or on a malformed chain (see <see cref="Error"/>).</summary>
    public bool MoveNext()
    {
        if (_done || !IsExtensionHeader(_next))
        {
            _done = true;
            return false;
        }
        if (_next == IpProtocol.HopByHop && _count != 0)
            return Fail(WireError.MisplacedHopByHop);
        if (_count == MaxHeaders)
            return Fail(WireError.TooManyExtensionHeaders);
        // Every extension header is at least 8 octets, and its length octet is the second.
        int remaining = _end - _offset;
        if (remaining < 8)
            return Fail(WireError.TruncatedExtensionHeader);
        int length = _next switch
        {
            IpProtocol.Ipv6Fragment => 8,
            IpProtocol.Ah => (_packet[_offset + 1] + 2) * 4,
            _ => (_packet[_offset + 1] + 1) * 8,
        };
        if (length > remaining)
            return Fail(WireError.TruncatedExtensionHeader);

        _current = new Ipv6ExtensionHeader(_next, _offset, _packet.Slice(_offset, length));
        _count++;
        _offset += length;
        _next = _current.NextHeader;
        if (_current.Type == IpProtocol.Ipv6Fragment && _current.FragmentOffset != 0)
            _done = true;
        return true;
    }

    /// <summary>Walks the whole chain of a checked packet and summarizes it.</summary>
    public static bool TryWalk(Ipv6Packet packet, out Ipv6ExtensionChain chain, out WireError error)
    {
        var reader = new Ipv6ExtensionHeaderReader(packet);
        int fragmentHeaderOffset = 0, fragmentOffset = 0, routingOffset = 0;
        bool moreFragments = false, hopByHop = false;
        uint identification = 0;
        byte segmentsLeft = 0, routingType = 0;
        while (reader.MoveNext())
        {
            Ipv6ExtensionHeader header = reader.Current;
            switch (header.Type)
            {
                case IpProtocol.HopByHop:
                    hopByHop = true;
                    break;
                case IpProtocol.Ipv6Routing when routingOffset == 0:
                    routingOffset = header.Offset;
                    routingType = header.RoutingType;
                    segmentsLeft = header.SegmentsLeft;
                    break;
                case IpProtocol.Ipv6Fragment when fragmentHeaderOffset == 0:
                    fragmentHeaderOffset = header.Offset;
                    fragmentOffset = header.FragmentOffset;
                    moreFragments = header.MoreFragments;
                    identification = header.FragmentIdentification;
                    break;
            }
        }
        error = reader.Error;
        if (error != WireError.None)
        {
            chain = default;
            return false;
        }
        chain = new Ipv6ExtensionChain(reader.UpperLayerProtocol, reader.UpperLayerOffset,
            Ipv6Packet.HeaderLength + packet.PayloadLength - reader.UpperLayerOffset, reader.Count)
        {
            HasHopByHop = hopByHop,
            RoutingHeaderOffset = routingOffset,
            RoutingType = routingType,
            SegmentsLeft = segmentsLeft,
            FragmentHeaderOffset = fragmentHeaderOffset,
            FragmentOffset = fragmentOffset,
            MoreFragments = moreFragments,
            FragmentIdentification = identification,
        };
        return true;
    }

    private bool Fail(WireError error)
    {
        Error = error;
        _done = true;
        return false;
    }
}
