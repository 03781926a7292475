using System.Runtime.CompilerServices;

namespace XdpStack.Stack.Network;

/// <summary>
/// Per-destination ICMP error rate limits of one NIC endpoint, as Linux keeps them in its inet_peer cache
/// (<c>inet_peer_xrlim_allow</c>): each destination earns one error per timeout (net.ipv4.icmp_ratelimit and
/// net.ipv6.icmp.ratelimit, 1000 ms) and saves up at most six, so one victim cannot be flooded through us
/// however many packets an attacker makes us answer.
/// </summary>
/// <remarks>
/// <para>
/// Each worker owns a fixed table (plus one for control threads), so the path allocates nothing and needs no
/// lock; with several workers a destination's errors are limited per worker, as RSS keeps a flow on one. A
/// destination maps by a keyed hash to a set of four slots. It takes its own slot, else a free one, else one
/// whose destination is idle (its bucket full again, so forgetting it changes nothing); only when all four are
/// busy with others does it share the first one's bucket, stricter than Linux but never looser, so flooding
/// colliding addresses buys no extra errors.
/// </para>
/// </remarks>
internal sealed class IcmpPeerLimiter
{
    /// <summary>Linux's XRLIM_BURST_FACTOR: a peer saves up to this many timeouts of credit.</summary>
    public const int BurstFactor = 6;

    private const int SlotsPerWorker = 1024;
    private const int Ways = 4;

    private readonly IClock _clock;
    private readonly Slot[][] _tables;
    private readonly ulong _seed;

    /// <param name="clock">The stack's clock.</param>
    /// <param name="workers">Workers, each with its own table (one more for control threads).</param>
    /// <param name="seed">The hash key; random unless a test fixes it.</param>
    public IcmpPeerLimiter(IClock clock, int workers, ulong? seed = null)
    {
        _clock = clock;
        _tables = new Slot[workers + 1][];
        for (int w = 0; w <= workers; w++)
            _tables[w] = new Slot[SlotsPerWorker];
        _seed = (seed ?? (ulong)Random.Shared.NextInt64()) | 1;
    }

    /// <summary>Takes one error's credit for the destination (<paramref name="high"/>, <paramref name="low"/>: an IPv4 address in low, or an IPv6 one's two halves) if it has earned it.</summary>
    /// <param name="worker">The calling worker, or a negative index for control threads.</param>
    /// <param name="high">The address's high 64 bits (0 for IPv4).</param>
    /// <param name="low">The address's low 64 bits.</param>
    /// <param name="timeout">The time that earns one error; zero or less turns the limit off.</param>
    public bool TryTake(int worker, ulong high, ulong low, TimeSpan timeout)
    {
        long cost = timeout.Ticks;
        if (cost <= 0)
            return true;
        long burst = BurstFactor * cost;
        long now = _clock.Now.Ticks;
        Slot[] table = _tables[worker >= 0 ? worker : _tables.Length - 1];
        int set = SetStart(high, low);
        ref Slot slot = ref Find(table, set, high, low, now, burst, burst);
        long tokens = Math.Min(burst, slot.Tokens + Math.Max(0, now - slot.Last));
        slot.Last = now;
        bool allowed = tokens >= cost;
        slot.Tokens = allowed ? tokens - cost : tokens;
        return allowed;
    }

    /// <summary>Linux's ip_rt_send_redirect: whether a Redirect may go to the host (an IPv4 address in <paramref name="low"/>) now.</summary>
    /// <remarks>
    /// The first goes at once; each later one only after twice the wait of the one before (20 ms, 40 ms, … :
    /// ip_rt_redirect_load); after nine a host has ignored, none, until it has sent nothing that would draw one for
    /// 20.48 s (ip_rt_redirect_silence), which starts the count again. Use a limiter of its own for this: the slots
    /// hold a count and a time here, not credit.
    /// </remarks>
    public bool TryTakeRedirect(int worker, ulong low)
    {
        long now = _clock.Now.Ticks;
        Slot[] table = _tables[worker >= 0 ? worker : _tables.Length - 1];
        ref Slot slot = ref Find(table, SetStart(0, low), 0, low, now, RedirectSilence.Ticks, 0);
        if (slot.Sent && now - slot.Last > RedirectSilence.Ticks)
            slot.Tokens = 0;
        slot.Sent = true;
        if (slot.Tokens >= RedirectNumber)
        {
            slot.Last = now;
            return false;
        }
        if (slot.Tokens == 0 || now - slot.Last > (RedirectLoad.Ticks << (int)slot.Tokens))
        {
            slot.Last = now;
            slot.Tokens++;
            return true;
        }
        return false;
    }

    // Linux's ip_rt_redirect_number, ip_rt_redirect_load (HZ / 50) and ip_rt_redirect_silence (load << 10).
    private const int RedirectNumber = 9;
    private static readonly TimeSpan RedirectLoad = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan RedirectSilence = TimeSpan.FromMilliseconds(20 << 10);

    // The destination's own slot in its set, else a free one, else an idle one (re-used as a peer Linux has not seen
    // starts: with <paramref name="fresh"/> in Tokens), else the set's first, shared. Idle: Tokens plus the time since
    // Last reach <paramref name="idle"/>.
    private static ref Slot Find(Slot[] table, int set, ulong high, ulong low, long now, long idle, long fresh)
    {
        int free = -1;
        for (int i = set; i < set + Ways; i++)
        {
            ref Slot candidate = ref table[i];
            if (candidate.Used && candidate.High == high && candidate.Low == low)
                return ref candidate;
            if (free < 0 && (!candidate.Used || candidate.Tokens + (now - candidate.Last) >= idle))
                free = i;
        }
        if (free < 0)
            return ref table[set];
        ref Slot taken = ref table[free];
        taken = new Slot { Used = true, High = high, Low = low, Tokens = fresh, Last = now };
        return ref taken;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SetStart(ulong high, ulong low)
    {
        ulong h = (high ^ _seed) * 0x9E3779B97F4A7C15UL;
        h ^= low * 0xC2B2AE3D27D4EB4FUL;
        h ^= h >> 29;
        h *= _seed;
        return (int)(h >> 56) * Ways;
    }

    private struct Slot
    {
        public bool Used;
        public ulong High;
        public ulong Low;
        public long Tokens;
        public long Last;
        // A Redirect limiter's slot has seen a packet since it was taken (its Last means something).
        public bool Sent;
    }
}
