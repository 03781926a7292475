using XdpStack.Stack.Wire;

namespace XdpStack.Stack.Network.Ipv6;

/// <summary>The Identification values of the IPv6 fragments the stack originates (RFC 8200 §4.5): distinct for one source and destination over a reassembly lifetime, and not guessable off path (RFC 7739).</summary>
/// <remarks>
/// <para>
/// Linux (<c>ipv6_select_ident</c>) hashes the addresses with a per-boot siphash key and adds a
/// counter chosen by that hash from a shared table (<c>ip_idents_reserve</c>, an atomic add). Here
/// each worker owns a counter, padded to a cache line of its own, and advances it with a plain
/// increment: identification = hash(source, destination) + sequence * lanes + lane, so two lanes
/// never give one pair the same value until a lane has used 2^32 / lanes of them. The hash is
/// <see cref="HashCode"/>, whose per-process random seed stands in for Linux's key.
/// </para>
/// <para>
/// Control threads (application sends, neighbour timers) may run at once and share the last lane,
/// advanced with <see cref="Interlocked"/>; no worker touches it.
/// </para>
/// </remarks>
internal sealed class Ipv6FragmentIdentification
{
    // 16 uints = 64 bytes: each worker's counter sits alone in its cache line, with a line before the first.
    private const int Stride = 16;

    private readonly uint[] _sequences;
    private readonly uint _lanes;
    private int _controlSequence;

    public Ipv6FragmentIdentification(int workers)
    {
        _lanes = (uint)workers + 1;
        _sequences = new uint[(workers + 2) * Stride];
    }

    /// <summary>The next Identification for a packet from <paramref name="source"/> to <paramref name="destination"/>, sent by <paramref name="worker"/> or <see cref="NicStats.ControlWorker"/>.</summary>
    public uint Next(int worker, Ipv6Address source, Ipv6Address destination)
    {
        uint lane, sequence;
        if (worker >= 0)
        {
            lane = (uint)worker;
            sequence = _sequences[(worker + 1) * Stride]++;
        }
        else
        {
            lane = _lanes - 1;
            sequence = NextControlSequence();
        }
        uint hash = (uint)HashCode.Combine(source.High, source.Low, destination.High, destination.Low);
        return hash + (sequence * _lanes) + lane;
    }

    // Apart so that the worker-path scan can name the one branch that workers never take.
    private uint NextControlSequence() => (uint)Interlocked.Increment(ref _controlSequence) - 1;
}
