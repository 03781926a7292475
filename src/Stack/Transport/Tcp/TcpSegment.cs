using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>A received segment, checked and with its options read: what the state machine works from.</summary>
/// <remarks>Valid only during the receive call: <see cref="Payload"/> points into the received frame.</remarks>
internal ref struct TcpSegment
{
    public uint Sequence;
    public uint Acknowledgment;
    public TcpFlags Flags;
    public ushort Window;
    public Span<byte> Payload;

    /// <summary>The ECN field of the IP header that carried the segment (RFC 3168 §5): 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE.</summary>
    public byte Ecn;

    /// <summary>The MSS option, 0 when absent.</summary>
    public ushort MaxSegmentSize;

    /// <summary>The window scale option, -1 when absent.</summary>
    public int WindowScale;

    public bool SackPermitted;
    public bool HasTimestamps;
    public uint TsValue;
    public uint TsEcho;

    /// <summary>The SACK option's blocks (RFC 2018), as received: not yet checked against the send sequence space.</summary>
    public TcpSackBlocks Sack;

    /// <summary>Sequence space the segment occupies: its payload, plus one each for SYN and FIN.</summary>
    public readonly uint Length =>
        (uint)Payload.Length + ((Flags & TcpFlags.Syn) != 0 ? 1u : 0u) + ((Flags & TcpFlags.Fin) != 0 ? 1u : 0u);

    public readonly bool Has(TcpFlags flag) => (Flags & flag) != 0;

    /// <summary>Reads the options; false on a malformed one.</summary>
    public bool ReadOptions(Span<byte> options)
    {
        WindowScale = -1;
        var reader = new TcpOptionReader(options);
        while (reader.MoveNext())
        {
            switch (reader.Kind)
            {
                case TcpOptionKind.MaxSegmentSize:
                    MaxSegmentSize = reader.MaxSegmentSize;
                    break;
                case TcpOptionKind.WindowScale:
                    // RFC 7323 §2.3: a shift over 14 is taken as 14.
                    WindowScale = Math.Min((int)reader.WindowScale, 14);
                    break;
                case TcpOptionKind.SackPermitted:
                    SackPermitted = true;
                    break;
                case TcpOptionKind.Timestamps:
                    HasTimestamps = true;
                    TcpTimestamps ts = reader.Timestamps;
                    TsValue = ts.Value;
                    TsEcho = ts.EchoReply;
                    break;
                case TcpOptionKind.Sack:
                    for (int i = 0; i < reader.SackBlockCount; i++)
                    {
                        (uint left, uint right) = reader.GetSackBlock(i);
                        Sack.Add(left, right);
                    }
                    break;
            }
        }
        return reader.Error == WireError.None;
    }
}
