using System.Text;
using XdpStack.Appliance.Metrics;
using XdpStack.Appliance.Routing;

namespace XdpStack.Appliance.Tests.Metrics;

/// <summary>The exporter over fake sources: what a scrape shows for what the sources hold.</summary>
public sealed class ApplianceMetricsTests
{
    [Fact]
    public void Scrape_TwoWorkersReportTheSameSeries_ExportsTheirSum()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        var w0 = new FakeSource(s => s.Add(MetricCatalog.Drops, 3, "eth1", "no_route"));
        var w1 = new FakeSource(s => s.Add(MetricCatalog.Drops, 4, "eth1", "no_route"));
        using IDisposable a = metrics.Attach(w0), b = metrics.Attach(w1);

        Exposition scrape = Scrape(metrics);

        Assert.Equal(7, scrape.Value("xdpstack_drops_total", "device=eth1", "reason=no_route"));
    }

    [Fact]
    public void Scrape_CounterSourceGoesDown_ExportedCounterNeverDoes()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        double value = 10;
        using IDisposable _ = metrics.Attach(new FakeSource(s => s.Add(MetricCatalog.ReceivePackets, value, "eth1", "0")));

        Assert.Equal(10, Scrape(metrics).Value("xdpstack_receive_packets_total", "device=eth1", "queue=0"));
        value = 25;
        Assert.Equal(25, Scrape(metrics).Value("xdpstack_receive_packets_total", "device=eth1", "queue=0"));
        // A source that restarted its count (or a torn read) must not make the counter go back: Prometheus would read
        // it as a reset and count everything again.
        value = 5;
        Assert.Equal(25, Scrape(metrics).Value("xdpstack_receive_packets_total", "device=eth1", "queue=0"));
    }

    [Fact]
    public void Scrape_Gauges_FollowTheSourceBothWays()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        double free = 100;
        using IDisposable _ = metrics.Attach(new FakeSource(s => s.Add(MetricCatalog.UmemFreeFrames, free, "0")));

        Assert.Equal(100, Scrape(metrics).Value("xdpstack_umem_free_frames", "worker=0"));
        free = 40;
        Assert.Equal(40, Scrape(metrics).Value("xdpstack_umem_free_frames", "worker=0"));
    }

    [Fact]
    public void Scrape_LabelsAreExactlyTheFamilysInItsOrder()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        using IDisposable _ = metrics.Attach(new FakeSource(s =>
        {
            s.Add(MetricCatalog.Forwarded, 9, "eth1", "eth2");
            s.Add(MetricCatalog.Wakeups, 2, "eth2", "1", "tx");
        }));

        string text = ScrapeText(metrics);

        Assert.Contains("\nxdpstack_forwarded_packets_total{device=\"eth1\",out_device=\"eth2\"} 9\n", text);
        Assert.Contains("\nxdpstack_wakeups_total{device=\"eth2\",queue=\"1\",direction=\"tx\"} 2\n", text);
        Assert.Contains("# TYPE xdpstack_forwarded_packets_total counter", text);
    }

    [Fact]
    public void Add_WrongNumberOfLabels_Throws()
    {
        var sample = new MetricsSample();
        Assert.Throws<ArgumentException>(() => sample.Add(MetricCatalog.Forwarded, 1, "eth1"));
    }

    [Fact]
    public void Scrape_BatchSizeCounts_BecomeHistogramObservationsOnce()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        ulong[] counts = new ulong[65];
        counts[1] = 3;
        counts[64] = 2;
        using IDisposable _ = metrics.Attach(new FakeSource(s => s.AddBatchSizes("0", counts)));

        Exposition first = Scrape(metrics);
        Assert.Equal(5, first.Value("xdpstack_rx_batch_size_count", "worker=0"));
        Assert.Equal(3 + 128, first.Value("xdpstack_rx_batch_size_sum", "worker=0"));
        Assert.Equal(3, first.Value("xdpstack_rx_batch_size_bucket", "worker=0", "le=1"));
        Assert.Equal(3, first.Value("xdpstack_rx_batch_size_bucket", "worker=0", "le=32"));
        Assert.Equal(5, first.Value("xdpstack_rx_batch_size_bucket", "worker=0", "le=64"));

        // A second scrape with nothing new observes nothing again; new batches add only themselves.
        Assert.Equal(5, Scrape(metrics).Value("xdpstack_rx_batch_size_count", "worker=0"));
        counts[32] = 1;
        Exposition third = Scrape(metrics);
        Assert.Equal(6, third.Value("xdpstack_rx_batch_size_count", "worker=0"));
        Assert.Equal(4, third.Value("xdpstack_rx_batch_size_bucket", "worker=0", "le=32"));
    }

    [Fact]
    public void Scrape_KernelRouteLatencyCounts_FallIntoTheirMillisecondBucketsOnce()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        var histogram = new RouteLatencyHistogram();
        histogram.Record(0.4, 2);       // le=0.001
        histogram.Record(99.2, 3);      // (99, 100] ms: le=0.1
        histogram.Record(100.5, 1);     // (100, 101] ms: le=0.2
        histogram.Record(2500, 1);      // over 1 s: +Inf only, observed at the largest latency
        using IDisposable _ = metrics.Attach(new FakeSource(s => s.KernelRouteLatency = (histogram.Counts, histogram.MaxMilliseconds)));

        Exposition first = Scrape(metrics);
        Assert.Equal(7, first.Value("xdpstack_kernel_route_latency_seconds_count"));
        Assert.Equal(2, first.Value("xdpstack_kernel_route_latency_seconds_bucket", "le=0.001"));
        Assert.Equal(2, first.Value("xdpstack_kernel_route_latency_seconds_bucket", "le=0.05"));
        Assert.Equal(5, first.Value("xdpstack_kernel_route_latency_seconds_bucket", "le=0.1"));
        Assert.Equal(6, first.Value("xdpstack_kernel_route_latency_seconds_bucket", "le=1"));
        Assert.Equal(7, first.Value("xdpstack_kernel_route_latency_seconds_bucket", "le=+Inf"));
        Assert.Equal(2 * 0.001 + 3 * 0.1 + 0.101 + 2.5, first.Value("xdpstack_kernel_route_latency_seconds_sum"), 9);

        // Nothing new, nothing observed again; a new change adds only itself.
        Assert.Equal(7, Scrape(metrics).Value("xdpstack_kernel_route_latency_seconds_count"));
        histogram.Record(3.0, 1);
        Exposition third = Scrape(metrics);
        Assert.Equal(8, third.Value("xdpstack_kernel_route_latency_seconds_count"));
        Assert.Equal(3, third.Value("xdpstack_kernel_route_latency_seconds_bucket", "le=0.005"));
    }

    [Fact]
    public void Scrape_DetachedSource_IsNoLongerRead()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        int reads = 0;
        IDisposable handle = metrics.Attach(new FakeSource(_ => reads++));
        Scrape(metrics);
        handle.Dispose();
        handle.Dispose();
        Scrape(metrics);
        Assert.Equal(1, reads);
    }

    [Fact]
    public void Scrape_SeriesOfAFamilyTheCommandDoesNotServe_FailsTheScrape()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.Reflect, defaultMetrics: false);
        using IDisposable _ = metrics.Attach(new FakeSource(s => s.Add(MetricCatalog.Routes, 1, "ipv4")));
        Assert.Throws<InvalidOperationException>(() => ScrapeText(metrics));
    }

    [Fact]
    public void Scrape_ReflectFamilies_OnlyThoseAreServed()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.Reflect, defaultMetrics: false);
        using IDisposable _ = metrics.Attach(new ProcessMetricsSource("reflect", reloads: null));

        Exposition scrape = Scrape(metrics);

        Assert.Equal(MetricCatalog.Reflect.Select(f => f.Name).Order(StringComparer.Ordinal), scrape.Types.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, scrape.Value("xdpstack_build_info", "command=reflect"));
        Assert.True(scrape.Value("xdpstack_dotnet_allocated_bytes_total") > 0);
    }

    [Fact]
    public void Scrape_ConfigReloads_CountedByResultAndLastOneShown()
    {
        var metrics = new ApplianceMetrics(MetricCatalog.All, defaultMetrics: false);
        var reloads = new ConfigReloadCounters();
        using IDisposable _ = metrics.Attach(new ProcessMetricsSource("run", reloads));

        Exposition before = Scrape(metrics);
        Assert.Equal(0, before.Value("xdpstack_config_reloads_total", "result=success"));
        Assert.Equal(0, before.Value("xdpstack_config_reloads_total", "result=failure"));
        Assert.Equal(1, before.Value("xdpstack_config_last_reload_successful"));

        reloads.Record(applied: true);
        reloads.Record(applied: false);
        Exposition after = Scrape(metrics);
        Assert.Equal(1, after.Value("xdpstack_config_reloads_total", "result=success"));
        Assert.Equal(1, after.Value("xdpstack_config_reloads_total", "result=failure"));
        Assert.Equal(0, after.Value("xdpstack_config_last_reload_successful"));
    }

    internal static string ScrapeText(ApplianceMetrics metrics)
    {
        using var stream = new MemoryStream();
        metrics.ExportAsync(stream).GetAwaiter().GetResult();
        return "\n" + Encoding.UTF8.GetString(stream.ToArray());
    }

    private static Exposition Scrape(ApplianceMetrics metrics) => Exposition.Parse(ScrapeText(metrics));

    private sealed class FakeSource(Action<MetricsSample> collect) : IMetricsSource
    {
        public void Collect(MetricsSample sample) => collect(sample);
    }
}
