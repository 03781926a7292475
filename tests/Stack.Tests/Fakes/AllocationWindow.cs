namespace XdpStack.Stack.Tests.Fakes;

/// <summary>Measures what the calling thread allocates while it runs some code, with no garbage collection in between.</summary>
/// <remarks>
/// A collection that another test's thread triggers in the middle of a window retires this thread's allocation
/// context, and <see cref="GC.GetAllocatedBytesForCurrentThread"/> then jumps by the part of it that was never used
/// (full-suite runs saw 2,664 and 7,568 bytes appear in windows that allocate nothing when run alone). So each window
/// runs inside a no-GC region, one window at a time in the process; if the region could not be held (other tests
/// allocated past its budget meanwhile), the window is measured again, up to three times.
/// </remarks>
internal static class AllocationWindow
{
    private const long Budget = 192L << 20;
    private static readonly Lock s_gate = new();

    /// <summary>Bytes the calling thread allocated while <paramref name="work"/> ran.</summary>
    public static long Measure(Action work) => Measure(work, attempts: 1);

    /// <summary>
    /// As <see cref="Measure(Action)"/>; when a collection still broke into the window, the work runs again, up to
    /// <paramref name="attempts"/> times in all, and the last window counts. Only for work that may run more than once.
    /// </summary>
    public static long Measure(Action work, int attempts)
    {
        lock (s_gate)
        {
            long allocated = 0;
            for (int attempt = 0; attempt < attempts; attempt++)
            {
                bool region = StartRegion();
                int collections = GC.CollectionCount(0);
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    work();
                }
                finally
                {
                    allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    if (region)
                        EndRegion();
                }
                if (GC.CollectionCount(0) == collections)
                    return allocated;
            }
            return allocated;
        }
    }

    // A region that a collection ended early (the budget ran out beside other tests' allocations) still has to be
    // ended, or the next TryStartNoGCRegion throws "already in progress" (seen in CI); EndNoGCRegion then throws to
    // say the region was cut short, which changes nothing here: the collection count tells the window it was broken.
    private static bool StartRegion()
    {
        try
        {
            return GC.TryStartNoGCRegion(Budget);
        }
        catch (InvalidOperationException)
        {
            EndRegion();
            return GC.TryStartNoGCRegion(Budget);
        }
    }

    private static void EndRegion()
    {
        try
        {
            GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
        }
    }
}
