namespace XdpStack.Stack.Wire;

/// <summary>Why a view's <c>TryCreate</c> (or a walker) refused a buffer; the stack maps each value to one drop counter.</summary>
public enum WireError : byte
{
    /// <summary>The buffer is well formed.</summary>
    None = 0,

    /// <summary>The buffer is shorter than the fixed header, or than a length field says it must be.</summary>
    Truncated,

    /// <summary>The IP version field does not match the view (RFC 791 §3.1, RFC 8200 §3).</summary>
    BadVersion,

    /// <summary>A header-length field is below its minimum (IPv4 IHL under 5, TCP data offset under 5).</summary>
    BadHeaderLength,

    /// <summary>The IPv4 total length is smaller than the header (RFC 791 §3.1).</summary>
    BadTotalLength,

    /// <summary>The UDP length is under 8 (RFC 768).</summary>
    BadLength,

    /// <summary>An ARP packet for a hardware or protocol type other than Ethernet and IPv4 (RFC 826).</summary>
    UnsupportedArpFormat,

    /// <summary>An IPv6 extension header runs past the end of the payload.</summary>
    TruncatedExtensionHeader,

    /// <summary>More IPv6 extension headers than <see cref="Ipv6ExtensionHeaderReader.MaxHeaders"/>.</summary>
    TooManyExtensionHeaders,

    /// <summary>A Hop-by-Hop Options header anywhere but right after the IPv6 header (RFC 8200 §4.3).</summary>
    MisplacedHopByHop,

    /// <summary>A TCP or NDP option whose length is invalid or runs past the options area.</summary>
    BadOption,

    /// <summary>A checksum does not verify.</summary>
    BadChecksum,
}
