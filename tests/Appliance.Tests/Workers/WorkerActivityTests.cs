using System.Diagnostics;
using XdpStack.Appliance.Workers;

namespace XdpStack.Appliance.Tests.Workers;

public sealed class WorkerActivityTests
{
    [Fact]
    public void Rounds_BusyTimeCountsOnlyRoundsThatMovedFrames_AndStaysWithinTheTotal()
    {
        var activity = new WorkerActivity(batch: 64);
        activity.Start();
        for (int round = 0; round < 10; round++)
        {
            activity.BeginRound();
            if (round % 2 == 0)
            {
                // A busy round: it lasts while it works.
                activity.MarkBusy();
                Thread.Sleep(10);
            }
            else
            {
                // An idle round, then the sleep that follows it: neither is busy.
                Thread.Sleep(30);
            }
        }
        activity.BeginRound();

        double total = activity.SecondsSinceStart(Stopwatch.GetTimestamp());
        Assert.Equal(11UL, activity.Polls);
        // Five busy rounds of at least 10 ms; five idle ones of at least 30 ms that must not be in it.
        Assert.InRange(activity.BusySeconds, 0.05, total - 0.15);
    }

    [Fact]
    public void CountBatch_CountsEachSizeUpToTheBatch()
    {
        var activity = new WorkerActivity(batch: 4);
        activity.CountBatch(1);
        activity.CountBatch(4);
        activity.CountBatch(4);
        Assert.Equal([0UL, 1, 0, 0, 2], activity.BatchSizes);
    }

    [Fact]
    public void SecondsSinceStart_BeforeStart_IsZero()
    {
        Assert.Equal(0, new WorkerActivity(8).SecondsSinceStart(Stopwatch.GetTimestamp()));
    }
}
