using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

/// <summary>SYN cookies (RFC 4987 §3.6) laid out as Linux's <c>secure_tcp_syn_cookie</c>: the ISN of a SYN-ACK for which no state is kept.</summary>
/// <remarks>
/// <para>cookie = H1(4-tuple) + ISN<sub>peer</sub> + (count &lt;&lt; 24) + ((H2(4-tuple, count) + index) mod 2^24), where
/// count is a 64-second clock, index picks the MSS from a table of four (Linux's <c>msstab</c>), and H1, H2 are
/// SipHash-2-4 with the stack's secret. The final ACK carries cookie + 1 and ISN<sub>peer</sub> + 1: subtracting H1 and
/// ISN<sub>peer</sub> gives the count in the top octet, accepted when it is the current or the previous period; then
/// subtracting H2 of that count must leave an index below 4, which a forger hits with odds of 2^-22 per guess that
/// also passes the count (Linux's arithmetic exactly).</para>
/// <para>The options of the SYN that only the SYN carries go in the low six bits of our TSval (Linux's
/// <c>cookie_init_timestamp</c>): the peer's window scale (15 for none), SACK-permitted and ECN. The ACK echoes them
/// in TSecr. Without timestamps there is nowhere to keep them, so a cookie connection then has neither window
/// scaling nor SACK nor ECN, as in Linux.</para>
/// </remarks>
internal static class TcpSynCookie
{
    /// <summary>The cookie clock's period, 64 s (Linux's is 60 s).</summary>
    public const long PeriodUs = 64_000_000;

    private const int CountShift = 24;
    private const uint DataMask = (1u << CountShift) - 1;

    // Current period and the one before: a cookie lives 64 to 128 s.
    private const uint MaxAge = 2;

    private const uint TsOptionBits = 0x3f;
    private const uint TsWindowScaleMask = 0x0f;
    private const uint TsSack = 0x10;
    private const uint TsEcn = 0x20;

    // Linux's msstab (syncookies.c) and msstab for IPv6: the common path MTUs less the headers. Arrays rather than
    // span literals: unoptimized code (a Debug build) fetches a ushort literal through reflection, allocating per SYN.
    private static readonly ushort[] Ipv4Mss = [536, 1300, 1440, 1460];

    private static readonly ushort[] Ipv6Mss = [1220, 1420, 1440, 8940];

    public static uint Counter(long nowUs) => (uint)(nowUs / PeriodUs);

    /// <summary>The largest table entry not above <paramref name="peerMss"/>; the smallest when all are.</summary>
    public static int MssIndex(bool ipv6, int peerMss)
    {
        ReadOnlySpan<ushort> table = ipv6 ? Ipv6Mss : Ipv4Mss;
        for (int i = table.Length - 1; i > 0; i--)
        {
            if (peerMss >= table[i])
                return i;
        }
        return 0;
    }

    public static int MssOf(bool ipv6, int index) => (ipv6 ? Ipv6Mss : Ipv4Mss)[index];

    /// <summary>The cookie for a SYN of <paramref name="key"/> with sequence <paramref name="peerIsn"/>.</summary>
    public static uint Encode(TcpIsnGenerator isn, in TcpFlowKey key, uint peerIsn, uint count, int mssIndex) =>
        isn.CookieHash(key, 0, 0) + peerIsn + (count << CountShift) + ((isn.CookieHash(key, count, 1) + (uint)mssIndex) & DataMask);

    /// <summary>The MSS index a cookie carries, or -1 when it is forged or expired.</summary>
    public static int Decode(TcpIsnGenerator isn, in TcpFlowKey key, bool ipv6, uint peerIsn, uint cookie, uint count)
    {
        cookie -= isn.CookieHash(key, 0, 0) + peerIsn;
        uint age = (count - (cookie >> CountShift)) & (0xffffffffu >> CountShift);
        if (age >= MaxAge)
            return -1;
        uint data = (cookie - isn.CookieHash(key, count - age, 1)) & DataMask;
        return data < (uint)(ipv6 ? Ipv6Mss : Ipv4Mss).Length ? (int)data : -1;
    }

    /// <summary>Our TSval for a cookie SYN-ACK: <paramref name="now"/> with its low bits replaced by the options, never ahead of it.</summary>
    public static uint EncodeTimestamp(uint now, int peerWindowScale, bool sackPermitted, bool ecn)
    {
        uint options = (peerWindowScale >= 0 ? (uint)peerWindowScale : TsWindowScaleMask) | (sackPermitted ? TsSack : 0) | (ecn ? TsEcn : 0);
        uint ts = (now & ~TsOptionBits) | options;
        // A TSval ahead of our clock would make the peer's later echoes look old to our RTT estimate.
        if (GreaterThan(ts, now))
            ts -= TsOptionBits + 1;
        return ts;
    }

    /// <summary>The options an echoed cookie TSval carries.</summary>
    public static void DecodeTimestamp(uint echo, out int peerWindowScale, out bool sackPermitted, out bool ecn)
    {
        uint scale = echo & TsWindowScaleMask;
        peerWindowScale = scale == TsWindowScaleMask ? -1 : (int)Math.Min(scale, 14u);
        sackPermitted = (echo & TsSack) != 0;
        ecn = (echo & TsEcn) != 0;
    }
}
