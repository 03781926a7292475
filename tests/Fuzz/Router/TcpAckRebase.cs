using System.Buffers.Binary;

namespace XdpStack.Fuzz.Router;

/// <summary>
/// Lets fuzz inputs finish TCP handshakes: the acknowledgment number of every TCP segment fed to the stack is taken as
/// relative to the initial sequence number of the last SYN-ACK the stack sent, and rewritten to the absolute value
/// (with the checksum adjusted, so a segment whose checksum was wrong stays wrong).
/// </summary>
/// <remarks>
/// The stack's ISNs are keyed hashes (RFC 6528) that no mutation finds, so without this no input reaches ESTABLISHED
/// and the connection's data, retransmission and close paths go unfuzzed. Adding a fixed number is a bijection of the
/// 32-bit field, so every acknowledgment number can still be sent; and an input replays the same way in another
/// process, whose secret and so ISNs differ.
/// </remarks>
internal sealed class TcpAckRebase
{
    private readonly byte[] _scratch = new byte[ushort.MaxValue + 64];
    private uint _iss;
    private bool _known;

    /// <summary>Forgets the last SYN-ACK: acknowledgment numbers go through unchanged until the stack sends another.</summary>
    public void Reset() => _known = false;

    /// <summary>Notes the ISN of any SYN-ACK among <paramref name="sent"/>.</summary>
    public void Observe(List<byte[]> sent)
    {
        foreach (byte[] frame in sent)
        {
            if (TryFindTcp(frame, out int tcp) && (frame[tcp + 13] & 0x12) == 0x12)
            {
                _iss = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(tcp + 4));
                _known = true;
            }
        }
    }

    /// <summary><paramref name="frame"/>, or a copy with its TCP acknowledgment number moved by the last SYN-ACK's ISN.</summary>
    public ReadOnlySpan<byte> Rebase(ReadOnlySpan<byte> frame)
    {
        if (!_known || frame.Length > _scratch.Length || !TryFindTcp(frame, out int tcp))
            return frame;
        Span<byte> copy = _scratch.AsSpan(0, frame.Length);
        frame.CopyTo(copy);
        uint before = BinaryPrimitives.ReadUInt32BigEndian(copy[(tcp + 8)..]);
        uint after = before + _iss;
        BinaryPrimitives.WriteUInt32BigEndian(copy[(tcp + 8)..], after);
        ushort checksum = BinaryPrimitives.ReadUInt16BigEndian(copy[(tcp + 16)..]);
        BinaryPrimitives.WriteUInt16BigEndian(copy[(tcp + 16)..], Adjust(checksum, before, after));
        return copy;
    }

    // Where the TCP header starts in an untagged Ethernet frame carrying IPv4 (first fragment) or IPv6 (no extension
    // headers) with TCP, when all 20 octets of it are there.
    private static bool TryFindTcp(ReadOnlySpan<byte> frame, out int tcp)
    {
        tcp = 0;
        if (frame.Length < 14 + 40)
            return false;
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (etherType == 0x0800 && (frame[14] >> 4) == 4 && frame[23] == 6 && (BinaryPrimitives.ReadUInt16BigEndian(frame[20..]) & 0x1FFF) == 0)
            tcp = 14 + (frame[14] & 0xF) * 4;
        else if (etherType == 0x86DD && (frame[14] >> 4) == 6 && frame[20] == 6)
            tcp = 14 + 40;
        return tcp >= 14 + 20 && frame.Length >= tcp + 20;
    }

    // RFC 1624 equation 3: HC' = ~(~HC + ~m + m'), over the two 16-bit halves of the changed word.
    private static ushort Adjust(ushort checksum, uint before, uint after)
    {
        uint sum = (ushort)~checksum;
        sum += (ushort)~(ushort)(before >> 16) + (uint)(ushort)~(ushort)before;
        sum += (after >> 16) + (after & 0xFFFF);
        while ((sum >> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }
}
