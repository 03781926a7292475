using System.Diagnostics;

namespace XdpStack.Appliance.Workers;

/// <summary>How one worker spends its rounds and how full its RX batches are; written only by the worker (plain stores), read at scrape time.</summary>
/// <remarks>
/// One timestamp per round, none per frame: a round runs from one <see cref="BeginRound"/> to the next, and counts as
/// busy when it moved frames. Spinning and sleeping follow an idle round and so fall into its span, never a busy one.
/// </remarks>
internal sealed class WorkerActivity
{
    private long _roundStart;
    private bool _lastRoundBusy;

    /// <param name="batch">The largest RX batch the worker takes; <see cref="BatchSizes"/> has a slot for each size up to it.</param>
    public WorkerActivity(int batch)
    {
        BatchSizes = new ulong[batch + 1];
    }

    /// <summary>The <see cref="Stopwatch"/> timestamp of the worker's first round; 0 before it.</summary>
    public long StartTimestamp;

    /// <summary><see cref="Stopwatch"/> ticks spent in rounds that moved frames.</summary>
    public long BusyTicks;

    /// <summary>Rounds run.</summary>
    public ulong Polls;

    /// <summary>BatchSizes[n]: non-empty RX batches of n frames, over every socket of the worker.</summary>
    public readonly ulong[] BatchSizes;

    /// <summary>Worker thread, once before its first round.</summary>
    public void Start()
    {
        _roundStart = Stopwatch.GetTimestamp();
        Volatile.Write(ref StartTimestamp, _roundStart);
    }

    /// <summary>Worker thread, once per round before it looks at any ring.</summary>
    public void BeginRound()
    {
        long now = Stopwatch.GetTimestamp();
        if (_lastRoundBusy)
            BusyTicks += now - _roundStart;
        _roundStart = now;
        _lastRoundBusy = false;
        Polls++;
    }

    /// <summary>Worker thread: the current round moved frames.</summary>
    public void MarkBusy() => _lastRoundBusy = true;

    /// <summary>Worker thread: one non-empty RX batch of <paramref name="frames"/> frames.</summary>
    public void CountBatch(int frames) => BatchSizes[frames]++;

    /// <summary>Seconds since the worker's first round at <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp); 0 before it.</summary>
    public double SecondsSinceStart(long now)
    {
        long start = Volatile.Read(ref StartTimestamp);
        return start == 0 ? 0 : (double)(now - start) / Stopwatch.Frequency;
    }

    /// <summary>Busy seconds so far.</summary>
    public double BusySeconds => (double)Volatile.Read(ref BusyTicks) / Stopwatch.Frequency;
}
