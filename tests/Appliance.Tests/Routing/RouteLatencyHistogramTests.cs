using XdpStack.Appliance.Routing;

namespace XdpStack.Appliance.Tests.Routing;

public class RouteLatencyHistogramTests
{
    [Fact]
    public void Quantile_Empty_IsNull()
    {
        var h = new RouteLatencyHistogram();
        Assert.Null(RouteLatencyHistogram.Quantile(h.Counts, 0.5, h.MaxMilliseconds));
    }

    [Fact]
    public void Quantile_WeightedChanges_NameTheBucketUpperBound()
    {
        var h = new RouteLatencyHistogram();
        h.Record(0.3, 50);      // (0, 1] ms
        h.Record(12.5, 49);     // (12, 13] ms
        h.Record(250.0, 1);     // (249, 250] ms
        long[] counts = h.Counts;
        Assert.Equal(100, counts.Sum());
        Assert.Equal(1, RouteLatencyHistogram.Quantile(counts, 0.5, h.MaxMilliseconds));
        Assert.Equal(13, RouteLatencyHistogram.Quantile(counts, 0.51, h.MaxMilliseconds));
        Assert.Equal(13, RouteLatencyHistogram.Quantile(counts, 0.99, h.MaxMilliseconds));
        Assert.Equal(250, RouteLatencyHistogram.Quantile(counts, 1.0, h.MaxMilliseconds));
        Assert.Equal(250.0, h.MaxMilliseconds);
    }

    [Fact]
    public void Record_OverOneSecond_CountsInTheLastBucketWhoseQuantileIsTheMax()
    {
        var h = new RouteLatencyHistogram();
        h.Record(1000.0, 1);
        h.Record(4321.5, 3);
        h.Record(2.0, 0);       // no change: nothing counted
        long[] counts = h.Counts;
        Assert.Equal(1, counts[RouteLatencyHistogram.Milliseconds - 1]);
        Assert.Equal(3, counts[RouteLatencyHistogram.Milliseconds]);
        Assert.Equal(4, counts.Sum());
        Assert.Equal(4321.5, RouteLatencyHistogram.Quantile(counts, 0.99, h.MaxMilliseconds));
        Assert.Equal(1000, RouteLatencyHistogram.Quantile(counts, 0.25, h.MaxMilliseconds));
    }
}
