using System.Buffers.Binary;

namespace XdpStack.Stack.Wire;

/// <summary>The parsed form of a TCP header with the options the stack understands (RFC 9293 §3.1, RFC 7323, RFC 2018).</summary>
/// <remarks>
/// <para>Parsed options: MSS, window scale, SACK permitted, timestamps and SACK blocks. Unknown
/// options are skipped (read them with <see cref="TcpOptionReader"/>), so a round trip reproduces only
/// headers without them.</para>
/// <para><see cref="Emit"/> lays options out as Linux's <c>tcp_options_write</c> does: MSS; then SACK
/// permitted packed before timestamps (or NOP, NOP, timestamps); SACK permitted alone after NOP, NOP;
/// window scale after one NOP; SACK blocks last, after NOP, NOP, as many as fit (<see cref="EmittedSackBlocks"/>). Every option
/// group is a multiple of 4 octets, so no padding is needed, and Linux segments round-trip octet for octet.</para>
/// </remarks>
public readonly record struct TcpHeader(
    ushort SourcePort,
    ushort DestinationPort,
    uint SequenceNumber,
    uint AcknowledgmentNumber,
    TcpFlags Flags,
    ushort WindowSize,
    ushort Checksum = 0)
{
    public ushort UrgentPointer { get; init; }

    /// <summary>The MSS option (RFC 9293 §3.7.1), or null.</summary>
    public ushort? MaxSegmentSize { get; init; }

    /// <summary>The window scale shift count (RFC 7323 §2), or null.</summary>
    public byte? WindowScale { get; init; }

    /// <summary>The SACK-permitted option (RFC 2018 §2).</summary>
    public bool SackPermitted { get; init; }

    /// <summary>The timestamps option (RFC 7323 §3), or null.</summary>
    public TcpTimestamps? Timestamps { get; init; }

    /// <summary>SACK blocks (RFC 2018 §3); none when empty.</summary>
    public TcpSackBlocks SackBlocks { get; init; }

    /// <summary>20 plus the options <see cref="Emit"/> writes.</summary>
    public int HeaderLength => TcpPacket.MinHeaderLength + OptionsLength;

    /// <summary>Header plus <paramref name="payloadLength"/> octets.</summary>
    public int BufferLength(int payloadLength) => HeaderLength + payloadLength;

    /// <summary>
    /// How many of <see cref="SackBlocks"/> <see cref="Emit"/> writes, the first ones: all that fit in the 40 option
    /// octets the other options leave, as Linux's <c>tcp_established_options</c> counts them. A peer may pack more
    /// (3 blocks beside timestamps and MSS without NOPs), which the aligned layout cannot hold.
    /// </summary>
    public int EmittedSackBlocks => SackBlocks.Count == 0 ? 0 : Math.Min(SackBlocks.Count, Math.Max(0, (MaxOptionsLength - OptionsBeforeSack - 4) / 8));

    private const int MaxOptionsLength = 40;

    private int OptionsBeforeSack =>
        (MaxSegmentSize.HasValue ? 4 : 0)
        + (Timestamps.HasValue ? 12 : 0)
        + (SackPermitted && !Timestamps.HasValue ? 4 : 0)
        + (WindowScale.HasValue ? 4 : 0);

    private int OptionsLength
    {
        get
        {
            int blocks = EmittedSackBlocks;
            return OptionsBeforeSack + (blocks > 0 ? 4 + (8 * blocks) : 0);
        }
    }

    /// <summary>Reads a checked segment without verifying the checksum; fails on malformed options.</summary>
    public static bool TryParse(TcpPacket packet, out TcpHeader header)
    {
        header = default;
        ushort? mss = null;
        byte? windowScale = null;
        bool sackPermitted = false;
        TcpTimestamps? timestamps = null;
        var sack = default(TcpSackBlocks);
        var options = new TcpOptionReader(packet.Options);
        while (options.MoveNext())
        {
            switch (options.Kind)
            {
                case TcpOptionKind.MaxSegmentSize:
                    mss = options.MaxSegmentSize;
                    break;
                case TcpOptionKind.WindowScale:
                    windowScale = options.WindowScale;
                    break;
                case TcpOptionKind.SackPermitted:
                    sackPermitted = true;
                    break;
                case TcpOptionKind.Timestamps:
                    timestamps = options.Timestamps;
                    break;
                case TcpOptionKind.Sack:
                    for (int i = 0; i < options.SackBlockCount; i++)
                    {
                        (uint left, uint right) = options.GetSackBlock(i);
                        sack.Add(left, right);
                    }
                    break;
            }
        }
        if (options.Error != WireError.None)
            return false;
        header = new TcpHeader(packet.SourcePort, packet.DestinationPort, packet.SequenceNumber, packet.AcknowledgmentNumber,
            packet.Flags, packet.WindowSize, packet.Checksum)
        {
            UrgentPointer = packet.UrgentPointer,
            MaxSegmentSize = mss,
            WindowScale = windowScale,
            SackPermitted = sackPermitted,
            Timestamps = timestamps,
            SackBlocks = sack,
        };
        return true;
    }

    /// <summary>Reads a checked segment carried by IPv4; fails when the checksum does not verify or the options are malformed.</summary>
    public static bool TryParse(TcpPacket packet, Ipv4Address source, Ipv4Address destination, out TcpHeader header)
    {
        header = default;
        return packet.VerifyChecksum(source, destination) && TryParse(packet, out header);
    }

    /// <summary>Reads a checked segment carried by IPv6; fails when the checksum does not verify or the options are malformed.</summary>
    public static bool TryParse(TcpPacket packet, Ipv6Address source, Ipv6Address destination, out TcpHeader header)
    {
        header = default;
        return packet.VerifyChecksum(source, destination) && TryParse(packet, out header);
    }

    /// <summary>Writes all <see cref="HeaderLength"/> octets, options included, <see cref="Checksum"/> as given.</summary>
    public void Emit(Span<byte> destination)
    {
        Span<byte> header = destination[..HeaderLength];
        BinaryPrimitives.WriteUInt16BigEndian(header, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], SequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], AcknowledgmentNumber);
        header[12] = (byte)(((HeaderLength / 4) << 4) | (((int)Flags >> 8) & 1));
        header[13] = (byte)Flags;
        BinaryPrimitives.WriteUInt16BigEndian(header[14..], WindowSize);
        BinaryPrimitives.WriteUInt16BigEndian(header[16..], Checksum);
        BinaryPrimitives.WriteUInt16BigEndian(header[18..], UrgentPointer);

        Span<byte> options = header[TcpPacket.MinHeaderLength..];
        int at = 0;
        if (MaxSegmentSize is ushort mss)
        {
            options[at] = (byte)TcpOptionKind.MaxSegmentSize;
            options[at + 1] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(options[(at + 2)..], mss);
            at += 4;
        }
        if (Timestamps is TcpTimestamps ts)
        {
            if (SackPermitted)
            {
                options[at] = (byte)TcpOptionKind.SackPermitted;
                options[at + 1] = 2;
            }
            else
            {
                options[at] = options[at + 1] = (byte)TcpOptionKind.NoOperation;
            }
            options[at + 2] = (byte)TcpOptionKind.Timestamps;
            options[at + 3] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(options[(at + 4)..], ts.Value);
            BinaryPrimitives.WriteUInt32BigEndian(options[(at + 8)..], ts.EchoReply);
            at += 12;
        }
        else if (SackPermitted)
        {
            options[at] = options[at + 1] = (byte)TcpOptionKind.NoOperation;
            options[at + 2] = (byte)TcpOptionKind.SackPermitted;
            options[at + 3] = 2;
            at += 4;
        }
        if (WindowScale is byte shift)
        {
            options[at] = (byte)TcpOptionKind.NoOperation;
            options[at + 1] = (byte)TcpOptionKind.WindowScale;
            options[at + 2] = 3;
            options[at + 3] = shift;
            at += 4;
        }
        TcpSackBlocks sack = SackBlocks;
        int blocks = EmittedSackBlocks;
        if (blocks > 0)
        {
            options[at] = options[at + 1] = (byte)TcpOptionKind.NoOperation;
            options[at + 2] = (byte)TcpOptionKind.Sack;
            options[at + 3] = (byte)(2 + (8 * blocks));
            at += 4;
            for (int i = 0; i < blocks; i++, at += 8)
            {
                BinaryPrimitives.WriteUInt32BigEndian(options[at..], sack.Left(i));
                BinaryPrimitives.WriteUInt32BigEndian(options[(at + 4)..], sack.Right(i));
            }
        }
    }

    /// <summary>Writes the header at the start of <paramref name="segment"/> (header plus payload, payload in place) and the checksum with the IPv4 pseudo-header.</summary>
    public void EmitWithChecksum(Span<byte> segment, Ipv4Address source, Ipv4Address destination) =>
        EmitWithChecksum(segment, PseudoHeader.Sum(source, destination, IpProtocol.Tcp, segment.Length));

    /// <summary>Writes the header at the start of <paramref name="segment"/> (header plus payload, payload in place) and the checksum with the IPv6 pseudo-header.</summary>
    public void EmitWithChecksum(Span<byte> segment, Ipv6Address source, Ipv6Address destination) =>
        EmitWithChecksum(segment, PseudoHeader.Sum(source, destination, IpProtocol.Tcp, segment.Length));

    private void EmitWithChecksum(Span<byte> segment, uint pseudoHeaderSum)
    {
        (this with { Checksum = 0 }).Emit(segment);
        BinaryPrimitives.WriteUInt16BigEndian(segment[16..], Wire.Checksum.Finish(Wire.Checksum.Sum(segment, pseudoHeaderSum)));
    }
}
