using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

// TCP options (RFC 9293 §3.2): one-octet End (0) and No-Operation (1), else kind, length (all
// octets, at least 2), data:
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Kind=2 (MSS)  |   Length=4    |     Maximum Segment Size      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Kind=3 (WS)   |   Length=3    |  shift.cnt    |   (RFC 7323 §2.2)
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Kind=4 (SACK permitted) | Length=2 |               (RFC 2018 §2)
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Kind=8 (TS)   |  Length=10     |   TS Value (4), TS Echo Reply (4)   (RFC 7323 §3.2)
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Kind=5 (SACK) | Length=2+8n    |  n × (left edge, right edge) (RFC 2018 §3)
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>Reads TCP options one by one, stopping at End of Options, the end of the area, or a malformed option.</summary>
/// <remarks>
/// An option whose length is under 2 or runs past the area, or a known option with the wrong length,
/// ends the walk with <see cref="Error"/> set to <see cref="WireError.BadOption"/>. No-Operation octets are
/// skipped, not returned. Unknown kinds are returned with their data for the caller to ignore.
/// </remarks>
public ref struct TcpOptionReader
{
    private readonly Span<byte> _options;
    private int _offset;

    public TcpOptionReader(Span<byte> options)
    {
        _options = options;
        _offset = 0;
        Kind = TcpOptionKind.EndOfOptions;
        Data = default;
        Error = WireError.None;
    }

    public TcpOptionKind Kind { get; private set; }

    /// <summary>The current option after its kind and length octets.</summary>
    public Span<byte> Data { get; private set; }

    /// <summary>Set when the walk stopped at a malformed option.</summary>
    public WireError Error { get; private set; }

    /// <summary>The MSS of a <see cref="TcpOptionKind.MaxSegmentSize"/> option.</summary>
    public readonly ushort MaxSegmentSize => Kind == TcpOptionKind.MaxSegmentSize ? BinaryPrimitives.ReadUInt16BigEndian(Data) : (ushort)0;

    /// <summary>The shift count of a <see cref="TcpOptionKind.WindowScale"/> option.</summary>
    public readonly byte WindowScale => Kind == TcpOptionKind.WindowScale ? Data[0] : (byte)0;

    /// <summary>The values of a <see cref="TcpOptionKind.Timestamps"/> option.</summary>
    public readonly TcpTimestamps Timestamps => Kind == TcpOptionKind.Timestamps
        ? new TcpTimestamps(BinaryPrimitives.ReadUInt32BigEndian(Data), BinaryPrimitives.ReadUInt32BigEndian(Data[4..]))
        : default;

    /// <summary>The number of blocks in a <see cref="TcpOptionKind.Sack"/> option.</summary>
    public readonly int SackBlockCount => Kind == TcpOptionKind.Sack ? Data.Length / 8 : 0;

    /// <summary>Block <paramref name="index"/> of a SACK option: left edge and right edge sequence numbers.</summary>
    public readonly (uint Left, uint Right) GetSackBlock(int index) =>
        (BinaryPrimitives.ReadUInt32BigEndian(Data[(index * 8)..]), BinaryPrimitives.ReadUInt32BigEndian(Data[((index * 8) + 4)..]));

    public bool MoveNext()
    {
        while (Error == WireError.None && _offset < _options.Length)
        {
            var kind = (TcpOptionKind)_options[_offset];
            if (kind == TcpOptionKind.EndOfOptions)
            {
                _offset = _options.Length;
                return false;
            }
            if (kind == TcpOptionKind.NoOperation)
            {
                _offset++;
                continue;
            }
            int remaining = _options.Length - _offset;
            int length = remaining >= 2 ? _options[_offset + 1] : 0;
            if (length < 2 || length > remaining || !HasValidLength(kind, length))
            {
                Error = WireError.BadOption;
                return false;
            }
            Kind = kind;
            Data = _options.Slice(_offset + 2, length - 2);
            _offset += length;
            return true;
        }
        return false;
    }

    private static bool HasValidLength(TcpOptionKind kind, int length) => kind switch
    {
        TcpOptionKind.MaxSegmentSize => length == 4,
        TcpOptionKind.WindowScale => length == 3,
        TcpOptionKind.SackPermitted => length == 2,
        TcpOptionKind.Timestamps => length == 10,
        TcpOptionKind.Sack => length >= 10 && (length - 2) % 8 == 0,
        _ => true,
    };
}
