using System.Buffers.Binary;
using System.Security.Cryptography;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock, F SipHash-2-4 keyed with a random secret.</summary>
/// <remarks>Linux does the same with SipHash (<c>secure_tcp_seq</c>); the timestamp offset of a connection comes from the same hash, as in Linux's <c>secure_tcp_ts_off</c>.</remarks>
internal sealed class TcpIsnGenerator
{
    private readonly ulong _k0;
    private readonly ulong _k1;

    public TcpIsnGenerator()
    {
        Span<byte> key = stackalloc byte[16];
        RandomNumberGenerator.Fill(key);
        _k0 = BinaryPrimitives.ReadUInt64LittleEndian(key);
        _k1 = BinaryPrimitives.ReadUInt64LittleEndian(key[8..]);
    }

    /// <summary>The ISN for a connection of <paramref name="key"/> at <paramref name="now"/>.</summary>
    public uint Generate(in TcpFlowKey key, TimeSpan now) => (uint)Hash(key, 0) + (uint)(now.Ticks / 40);

    /// <summary>A per-connection offset added to our timestamp clock, so that TSval reveals no uptime.</summary>
    public uint TimestampOffset(in TcpFlowKey key) => (uint)Hash(key, 1);

    /// <summary>A 32-bit keyed hash of the 4-tuple and <paramref name="count"/> for SYN cookies, separate from the ISN's by its domain.</summary>
    public uint CookieHash(in TcpFlowKey key, uint count, uint domain) => (uint)Hash(key, 2 + domain, count);

    private ulong Hash(in TcpFlowKey key, ulong domain, uint extra = 0)
    {
        Span<byte> input = stackalloc byte[48];
        BinaryPrimitives.WriteUInt64LittleEndian(input, key.LocalAddress.V6.High);
        BinaryPrimitives.WriteUInt64LittleEndian(input[8..], key.LocalAddress.V6.Low);
        BinaryPrimitives.WriteUInt64LittleEndian(input[16..], key.RemoteAddress.V6.High);
        BinaryPrimitives.WriteUInt64LittleEndian(input[24..], key.RemoteAddress.V6.Low);
        BinaryPrimitives.WriteUInt16LittleEndian(input[32..], key.LocalPort);
        BinaryPrimitives.WriteUInt16LittleEndian(input[34..], key.RemotePort);
        BinaryPrimitives.WriteUInt32LittleEndian(input[36..], (uint)domain);
        BinaryPrimitives.WriteUInt64LittleEndian(input[40..], extra);
        return SipHash24(_k0, _k1, input);
    }

    // SipHash-2-4 (Aumasson and Bernstein), over a whole number of 8-octet words.
    private static ulong SipHash24(ulong k0, ulong k1, ReadOnlySpan<byte> data)
    {
        ulong v0 = k0 ^ 0x736f6d6570736575UL;
        ulong v1 = k1 ^ 0x646f72616e646f6dUL;
        ulong v2 = k0 ^ 0x6c7967656e657261UL;
        ulong v3 = k1 ^ 0x7465646279746573UL;
        for (int i = 0; i < data.Length; i += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }
        ulong last = (ulong)data.Length << 56;
        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;
        v2 ^= 0xff;
        for (int i = 0; i < 4; i++)
            Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = ulong.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = ulong.RotateLeft(v0, 32);
        v2 += v3;
        v3 = ulong.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = ulong.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = ulong.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = ulong.RotateLeft(v2, 32);
    }
}
