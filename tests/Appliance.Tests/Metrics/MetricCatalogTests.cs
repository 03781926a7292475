using XdpStack.Appliance.Metrics;

namespace XdpStack.Appliance.Tests.Metrics;

public sealed class MetricCatalogTests
{
    [Fact]
    public void All_MatchesDocsMetricsFamilyForFamily_NamesTypesAndLabels()
    {
        IReadOnlyList<MetricsDoc.Family> documented = MetricsDoc.Families();
        Assert.True(documented.Count >= 30, $"read only {documented.Count} families from docs/metrics.md");
        Assert.Equal(
            documented.Select(f => $"{f.Name} {f.Type} {string.Join(',', f.Labels)}").Order(StringComparer.Ordinal),
            MetricCatalog.All.Select(f => $"{f.Name} {f.Kind.ToString().ToLowerInvariant()} {string.Join(',', f.Labels)}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Reflect_IsASubsetOfAll_WithoutStackOrConfigFamilies()
    {
        Assert.All(MetricCatalog.Reflect, f => Assert.Contains(f, MetricCatalog.All));
        Assert.DoesNotContain(MetricCatalog.Forwarded, MetricCatalog.Reflect);
        Assert.DoesNotContain(MetricCatalog.ConfigReloads, MetricCatalog.Reflect);
        Assert.DoesNotContain(MetricCatalog.Routes, MetricCatalog.Reflect);
    }

    [Fact]
    public void All_NamesFollowPrometheusRules()
    {
        foreach (MetricFamily f in MetricCatalog.All)
        {
            Assert.StartsWith("xdpstack_", f.Name, StringComparison.Ordinal);
            // Counters end in _total; nothing else does.
            Assert.True((f.Kind == MetricKind.Counter) == f.Name.EndsWith("_total", StringComparison.Ordinal), f.Name);
            Assert.Equal(f.Labels.Length, f.Labels.Distinct().Count());
        }
    }

    [Fact]
    public void BatchBuckets_PowersOfTwoUpToTheLargestBatch()
    {
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], MetricCatalog.BatchBuckets(1024));
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 100], MetricCatalog.BatchBuckets(100));
    }
}
