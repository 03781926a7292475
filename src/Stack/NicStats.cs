using System.Runtime.CompilerServices;

namespace XdpStack.Stack;

/// <summary>The counters of one NIC, kept per worker and summed when read.</summary>
/// <remarks>
/// Each worker writes only its own row with plain stores, so the receive path needs no
/// <c>Interlocked</c>; rows are padded by a cache line on both sides so two workers never share
/// one. Control threads (address changes, neighbour timers) write a separate row with
/// <c>Interlocked</c>, since several of them may run at once. Readers (metrics scrape) may see a
/// row mid-update; 64-bit reads are atomic, so a sum is at worst a moment stale, never torn.
/// </remarks>
public sealed class NicStats
{
    /// <summary>The worker index control threads pass; it selects the shared, interlocked row.</summary>
    public const int ControlWorker = -1;

    /// <summary>Distinct EtherTypes each worker keeps apart in <see cref="UnknownNetworkProtocols"/>; more land in one "other" slot (key 0).</summary>
    public const int TrackedEtherTypes = 16;

    /// <summary>Egress NIC id values (0 to this, exclusive) that <see cref="ForwardedTo"/> keeps apart per ingress NIC; forwards to larger ids are counted only in the family counters.</summary>
    public const int TrackedEgressNics = 64;

    // 8 longs = 64 bytes of padding on each side of a row.
    private const int Pad = 8;

    private static readonly int s_counterCount = Enum.GetValues<StatCounter>().Length;

    private readonly long[][] _rows;
    private readonly long[][] _unknownTransport;
    private readonly ushort[][] _unknownNetworkKeys;
    private readonly long[][] _unknownNetworkCounts;
    private readonly long[][] _forwardedTo;

    public NicStats(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        Workers = workers;
        // One extra row at the end for control threads.
        _rows = new long[workers + 1][];
        _unknownTransport = new long[workers + 1][];
        _unknownNetworkKeys = new ushort[workers + 1][];
        _unknownNetworkCounts = new long[workers + 1][];
        _forwardedTo = new long[workers + 1][];
        for (int w = 0; w <= workers; w++)
        {
            _rows[w] = new long[s_counterCount + (2 * Pad)];
            _unknownTransport[w] = new long[256 + (2 * Pad)];
            _unknownNetworkKeys[w] = new ushort[TrackedEtherTypes + (8 * Pad)];
            _unknownNetworkCounts[w] = new long[TrackedEtherTypes + (2 * Pad)];
            _forwardedTo[w] = new long[TrackedEgressNics + (2 * Pad)];
        }
    }

    public int Workers { get; }

    /// <summary>The sum of <paramref name="counter"/> over all workers and control threads.</summary>
    public long this[StatCounter counter]
    {
        get
        {
            long sum = 0;
            foreach (long[] row in _rows)
                sum += Volatile.Read(ref row[Pad + (int)counter]);
            return sum;
        }
    }

    /// <summary>Received packets for us whose IP protocol had no transport, for one protocol number.</summary>
    public long UnknownTransportProtocol(byte protocol)
    {
        long sum = 0;
        foreach (long[] row in _unknownTransport)
            sum += Volatile.Read(ref row[Pad + protocol]);
        return sum;
    }

    /// <summary>
    /// Packets the stack's forwarders routed from this NIC out of the NIC whose id value is <paramref name="egressNic"/>:
    /// sent, or queued for link resolution (the point where <see cref="StatCounter.Ipv4PacketsForwarded"/> counts), in
    /// either family. The AF_XDP fast paths, which bypass the stack, are not in it.
    /// </summary>
    public long ForwardedTo(int egressNic)
    {
        if ((uint)egressNic >= TrackedEgressNics)
            return 0;
        long sum = 0;
        foreach (long[] row in _forwardedTo)
            sum += Volatile.Read(ref row[Pad + egressNic]);
        return sum;
    }

    /// <summary>Received frames whose EtherType had no network protocol, per EtherType (EtherTypes past the tracked ones add to key 0).</summary>
    public IReadOnlyDictionary<ushort, long> UnknownNetworkProtocols()
    {
        var result = new Dictionary<ushort, long>();
        for (int w = 0; w < _rows.Length; w++)
        {
            for (int i = 0; i < TrackedEtherTypes; i++)
            {
                long count = Volatile.Read(ref _unknownNetworkCounts[w][Pad + i]);
                if (count == 0)
                    continue;
                ushort key = Volatile.Read(ref _unknownNetworkKeys[w][(4 * Pad) + i]);
                result[key] = result.GetValueOrDefault(key) + count;
            }
        }
        return result;
    }

    /// <summary>Adds to one counter of <paramref name="worker"/>'s row, or of the control row for <see cref="ControlWorker"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int worker, StatCounter counter, long value = 1)
    {
        if (worker >= 0)
            _rows[worker][Pad + (int)counter] += value;
        else
            AddToControlRow(ref _rows[Workers][Pad + (int)counter], value);
    }

    internal void AddUnknownTransport(int worker, byte protocol)
    {
        Add(worker, StatCounter.UnknownTransportProtocolPackets);
        if (worker >= 0)
            _unknownTransport[worker][Pad + protocol]++;
        else
            AddToControlRow(ref _unknownTransport[Workers][Pad + protocol], 1);
    }

    /// <summary>Counts one packet forwarded from this NIC to <paramref name="egress"/> (see <see cref="ForwardedTo"/>).</summary>
    internal void AddForwarded(int worker, NicId egress)
    {
        if ((uint)egress.Value >= TrackedEgressNics)
            return;
        if (worker >= 0)
            _forwardedTo[worker][Pad + egress.Value]++;
        else
            AddToControlRow(ref _forwardedTo[Workers][Pad + egress.Value], 1);
    }

    internal void AddUnknownNetwork(int worker, ushort etherType)
    {
        Add(worker, StatCounter.UnknownNetworkProtocolPackets);
        int row = worker >= 0 ? worker : Workers;
        ushort[] keys = _unknownNetworkKeys[row];
        long[] counts = _unknownNetworkCounts[row];
        // Slot 0 is "other"; slots 1.. are claimed in arrival order by the one writer of the row.
        int slot = 0;
        for (int i = 1; i < TrackedEtherTypes; i++)
        {
            if (keys[(4 * Pad) + i] == etherType && counts[Pad + i] != 0)
            {
                slot = i;
                break;
            }
            if (counts[Pad + i] == 0)
            {
                keys[(4 * Pad) + i] = etherType;
                slot = i;
                break;
            }
        }
        if (worker >= 0)
            counts[Pad + slot]++;
        else
            AddToControlRow(ref counts[Pad + slot], 1);
    }

    // The control row's one writer primitive: several control threads may add at once. Workers pass their own index
    // and never get here; the IL scan of the worker path names this method as excluded (tests' WorkerPathExclusions).
    private static void AddToControlRow(ref long cell, long value) => Interlocked.Add(ref cell, value);
}
