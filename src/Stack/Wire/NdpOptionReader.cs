namespace XdpStack.Stack.Wire;

// NDP option (RFC 4861 §4.6); the length counts 8-octet units, the type and length octets included:
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |    Length     |              ...              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Source/Target Link-Layer Address (§4.6.1), types 1 and 2, length 1 on Ethernet:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |    Length     |    Link-Layer Address (6) ... |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>Reads the options of an NDP message one by one (RFC 4861 §4.6), stopping at a malformed one.</summary>
/// <remarks>
/// RFC 4861 §4.6: a zero length is invalid and the whole message must be dropped; so is an option that
/// runs past the message. Both end the walk with <see cref="Error"/> set to <see cref="WireError.BadOption"/>.
/// </remarks>
public ref struct NdpOptionReader
{
    /// <summary>Source Link-Layer Address option type.</summary>
    public const byte SourceLinkLayerAddress = 1;

    /// <summary>Target Link-Layer Address option type.</summary>
    public const byte TargetLinkLayerAddress = 2;

    /// <summary>Prefix Information option type.</summary>
    public const byte PrefixInformation = 3;

    /// <summary>Redirected Header option type (RFC 4861 §4.6.3).</summary>
    public const byte RedirectedHeader = 4;

    /// <summary>MTU option type.</summary>
    public const byte Mtu = 5;

    private readonly Span<byte> _options;
    private int _offset;

    public NdpOptionReader(Span<byte> options)
    {
        _options = options;
        _offset = 0;
        Type = 0;
        Data = default;
        Error = WireError.None;
    }

    /// <summary>The type of the current option.</summary>
    public byte Type { get; private set; }

    /// <summary>The current option after its type and length octets.</summary>
    public Span<byte> Data { get; private set; }

    /// <summary>Set when the walk stopped at a malformed option.</summary>
    public WireError Error { get; private set; }

    /// <summary>The link-layer address carried by a type 1 or 2 option on Ethernet.</summary>
    public readonly MacAddress LinkLayerAddress => Data.Length >= MacAddress.Length ? new MacAddress(Data) : default;

    public bool MoveNext()
    {
        if (Error != WireError.None || _offset >= _options.Length)
            return false;
        if (_options.Length - _offset < 2 || _options[_offset + 1] == 0 || _options[_offset + 1] * 8 > _options.Length - _offset)
        {
            Error = WireError.BadOption;
            return false;
        }
        int length = _options[_offset + 1] * 8;
        Type = _options[_offset];
        Data = _options.Slice(_offset + 2, length - 2);
        _offset += length;
        return true;
    }
}
