namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// Every metric and label name the dashboard and the alert rules use exists: in docs/metrics.md's table (the
/// contract of the metrics endpoint) or among the default families, with that label. A typo fails here rather
/// than as a panel that never shows anything.
/// </summary>
public sealed class MetricNamesTests
{
    private static readonly IReadOnlyDictionary<string, (string Type, string[] Labels)> Documented =
        MetricFamilies.Documented(File.ReadAllText(DeployFiles.MetricsDoc));

    [Fact]
    public void MetricsDoc_TableIsRead()
    {
        Assert.True(Documented.Count >= 30, $"only {Documented.Count} families read from docs/metrics.md");
        Assert.Equal(["device", "queue", "ring"], Documented["xdpstack_ring_entries"].Labels);
        Assert.Equal("histogram", Documented["xdpstack_rx_batch_size"].Type);
        Assert.Empty(Documented["xdpstack_config_last_reload_successful"].Labels);
    }

    [Fact]
    public void Dashboard_EveryQueryNamesDocumentedMetricsAndTheirLabels()
    {
        var queries = DashboardQueries.All(DeployFiles.Json(DeployFiles.Dashboard)).ToList();
        Assert.True(queries.Count >= 40, $"only {queries.Count} queries found");
        string[] problems = queries.SelectMany(q => Problems(q.Where, q.Expr, PromQlNames.LegendLabels(q.Legend))).ToArray();
        Assert.True(problems.Length == 0, string.Join("\n", problems));
    }

    [Fact]
    public void AlertRules_EveryExpressionNamesDocumentedMetricsAndTheirLabels()
    {
        string[] problems = AlertRules.All()
            .SelectMany(r => Problems("alert " + r.Name, r.Expr, PromQlNames.AlertTemplateLabels(r.Summary + " " + r.Description))).ToArray();
        Assert.True(problems.Length == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Dashboard_CoversEveryDocumentedFamily()
    {
        var used = DashboardQueries.All(DeployFiles.Json(DeployFiles.Dashboard))
            .SelectMany(q => PromQlNames.Of(q.Expr).Metrics)
            .Select(m => Documented.ContainsKey(m) ? m : m.Replace("_bucket", "", StringComparison.Ordinal).Replace("_sum", "", StringComparison.Ordinal).Replace("_count", "", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        string[] unused = Documented.Keys.Where(f => !used.Contains(f)).ToArray();
        Assert.True(unused.Length == 0, "families no panel shows: " + string.Join(", ", unused));
    }

    [Theory]
    [InlineData("sum(rate(xdpstack_recieve_packets_total[5m]))", "xdpstack_recieve_packets_total")]
    [InlineData("sum by (devce) (rate(xdpstack_receive_packets_total[5m]))", "devce")]
    [InlineData("rate(xdpstack_drops_total{reason=\"no_route\", queue=\"0\"}[5m])", "queue")]
    [InlineData("xdpstack_umem_free_frames / xdpstack_umem_frames", "{{device}}")]
    public void Problems_ATypoOrAForeignLabel_IsReported(string expr, string culprit)
    {
        string legend = culprit.StartsWith("{{", StringComparison.Ordinal) ? culprit : "";
        string[] problems = Problems("test", expr, PromQlNames.LegendLabels(legend)).ToArray();
        Assert.Single(problems);
        Assert.Contains(culprit.Trim('{', '}'), problems[0]);
    }

    [Fact]
    public void PromQlNames_FindsMetricsAndLabelsButNotFunctionsVariablesOrNumbers()
    {
        PromQlNames.Names n = PromQlNames.Of(
            "histogram_quantile(0.99, sum by (worker, le) (rate(xdpstack_rx_batch_size_bucket{device=~\"$device\"}[$__rate_interval]))) "
            + "/ on (worker) group_left 8 * 1e6 * xdpstack_umem_frames or absent(up{job=\"xdpstack\"}) > bool 0");
        Assert.Equal(["up", "xdpstack_rx_batch_size_bucket", "xdpstack_umem_frames"], n.Metrics.Order(StringComparer.Ordinal));
        Assert.Equal(["device", "job", "le", "worker"], n.Labels.Order(StringComparer.Ordinal));
    }

    private static IEnumerable<string> Problems(string where, string expr, IEnumerable<string> templateLabels)
    {
        PromQlNames.Names names = PromQlNames.Of(expr);
        if (names.Metrics.Count == 0)
            yield return $"{where}: no metric found in '{expr}'";
        var allowed = new HashSet<string>(MetricFamilies.ScrapeLabels, StringComparer.Ordinal);
        foreach (string metric in names.Metrics)
        {
            string[]? labels = MetricFamilies.LabelsOf(metric, Documented);
            if (labels is null)
                yield return $"{where}: '{metric}' is in neither docs/metrics.md nor the default families";
            else
                allowed.UnionWith(labels);
        }
        foreach (string label in names.Labels.Concat(templateLabels).Distinct())
        {
            if (!allowed.Contains(label))
                yield return $"{where}: label '{label}' belongs to none of {string.Join(", ", names.Metrics)}";
        }
    }
}
