namespace XdpStack.Stack.Routing;

/// <summary>The readers of tables that a writer reuses, for quiescent-state-based reclamation (DPDK's RCU QSBR): memory the writer unpublished is written again only after every reader passed a quiescent point.</summary>
/// <remarks>
/// <para>
/// Readers (workers) <see cref="Register"/> once and call <see cref="ReaderEpoch.Quiesce"/> once per batch. The
/// writer, after unpublishing something, takes a <see cref="Capture"/> (<see cref="Take"/>) and may reuse the memory
/// once <see cref="HavePassed"/> is true for it: each reader then has either bumped its counter since (so it dropped
/// every reference it held), was offline at the capture, or was not registered at it (so it registered later, under
/// the same lock, and can only read what the writer published before).
/// </para>
/// <para>
/// A registered reader that stops quiescing without going offline only delays reuse; the writer then takes fresh
/// memory instead. Register, unregister and capture take a private lock; the data path takes none.
/// </para>
/// </remarks>
public sealed partial class ReaderEpochs
{
    private readonly Lock _gate = new();
    private ReaderEpoch[] _readers = []; // replaced under _gate, never changed in place

    /// <summary>The number of registered readers.</summary>
    public int Count => Volatile.Read(ref _readers).Length;

    /// <summary>Adds a reader; its first lookup must come after this returns.</summary>
    public ReaderEpoch Register()
    {
        var reader = new ReaderEpoch();
        lock (_gate)
            _readers = [.. _readers, reader];
        return reader;
    }

    /// <summary>Removes a reader that will do no more lookups; reclamation stops waiting for it.</summary>
    public void Unregister(ReaderEpoch reader)
    {
        lock (_gate)
            _readers = Array.FindAll(_readers, r => !ReferenceEquals(r, reader));
    }

    /// <summary>Records every reader's counter now; call it after the stores that unpublished what is to be reused.</summary>
    /// <remarks>
    /// The full fence orders the unpublishing stores before the counter loads: without it x64 may let a load pass an
    /// earlier store, and the writer could see a counter from before a reader's last read of the old reference.
    /// </remarks>
    public Capture Take()
    {
        Interlocked.MemoryBarrier();
        ReaderEpoch[] readers;
        lock (_gate)
            readers = _readers;
        long[] values = new long[readers.Length];
        for (int i = 0; i < readers.Length; i++)
            values[i] = readers[i].Value;
        return new Capture(readers, values);
    }

    /// <summary>Whether every reader of <paramref name="capture"/> has passed a quiescent point since it was taken, was offline then, or left.</summary>
    public bool HavePassed(Capture capture)
    {
        ReaderEpoch[] current = Volatile.Read(ref _readers);
        for (int i = 0; i < capture.Readers.Length; i++)
        {
            long then = capture.Values[i];
            if ((then & 1) == 0 && capture.Readers[i].Value == then && Array.IndexOf(current, capture.Readers[i]) >= 0)
                return false;
        }
        return true;
    }
}
