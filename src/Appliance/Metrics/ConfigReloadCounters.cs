namespace XdpStack.Appliance.Metrics;

/// <summary>What SIGHUP reloads came to; written by the thread that reloads, read at scrape time.</summary>
internal sealed class ConfigReloadCounters
{
    private long _successes;
    private long _failures;
    private int _lastSucceeded = 1;

    public long Successes => Volatile.Read(ref _successes);

    public long Failures => Volatile.Read(ref _failures);

    /// <summary>True when the last reload applied, or none was tried.</summary>
    public bool LastSucceeded => Volatile.Read(ref _lastSucceeded) != 0;

    /// <summary>Counts one reload: applied, or refused (a file that does not load, or a change that needs a restart).</summary>
    public void Record(bool applied)
    {
        if (applied)
            Interlocked.Increment(ref _successes);
        else
            Interlocked.Increment(ref _failures);
        Volatile.Write(ref _lastSucceeded, applied ? 1 : 0);
    }
}
