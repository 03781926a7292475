namespace XdpStack.Stack.Wire;

/// <summary>What <see cref="Ipv6ExtensionHeaderReader.TryWalk"/> found: the upper layer and the fields of the headers the stack acts on.</summary>
/// <remarks>Offsets count from the start of the IPv6 fixed header; an offset of 0 means "no such header", as no extension header can start there.</remarks>
public readonly record struct Ipv6ExtensionChain(IpProtocol UpperLayerProtocol, int UpperLayerOffset, int UpperLayerLength, int HeaderCount)
{
    /// <summary>True when the chain starts with a Hop-by-Hop Options header.</summary>
    public bool HasHopByHop { get; init; }

    /// <summary>Where the first Routing header starts, or 0.</summary>
    public int RoutingHeaderOffset { get; init; }

    public byte RoutingType { get; init; }

    public byte SegmentsLeft { get; init; }

    /// <summary>Where the Fragment header starts (the length of the unfragmentable part), or 0.</summary>
    public int FragmentHeaderOffset { get; init; }

    /// <summary>The fragment offset in octets.</summary>
    public int FragmentOffset { get; init; }

    public bool MoreFragments { get; init; }

    public uint FragmentIdentification { get; init; }

    public bool HasRoutingHeader => RoutingHeaderOffset != 0;

    public bool HasFragmentHeader => FragmentHeaderOffset != 0;

    /// <summary>A real fragment: a Fragment header with M set or a non-zero offset (an "atomic fragment", RFC 6946, is not one).</summary>
    public bool IsFragment => HasFragmentHeader && (MoreFragments || FragmentOffset != 0);
}
