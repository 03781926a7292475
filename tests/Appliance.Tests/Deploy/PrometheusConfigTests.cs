using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>deploy/prometheus: the config and the alert rules pass promtool, and the rules' unit tests pass and can fail.</summary>
public sealed class PrometheusConfigTests
{
    [Fact]
    public void CheckConfig_PrometheusYml_IsValidAndFindsTheRules()
    {
        CommandResult r = DeployFiles.Tool("promtool", "prometheus", "check", "config", DeployFiles.PrometheusConfig);
        Assert.True(r.ExitCode == 0, DeployFiles.Output(r));
        Assert.Contains("1 rule files found", r.StandardOutput + r.StandardError);
    }

    [Fact]
    public void CheckConfig_ScrapesXdpstackAndNodeExporterEveryFiveSeconds()
    {
        var config = DeployFiles.Yaml(DeployFiles.PrometheusConfig);
        Assert.Equal("5s", config.GetProperty("global").GetProperty("scrape_interval").GetString());
        var targets = config.GetProperty("scrape_configs").EnumerateArray().ToDictionary(
            job => job.GetProperty("job_name").GetString()!,
            job => job.GetProperty("static_configs")[0].GetProperty("targets")[0].GetString());
        // xdpstack's default [management] listen (docs/metrics.md) and node_exporter's port as the compose file binds it.
        Assert.Equal("127.0.0.1:9469", targets["xdpstack"]);
        Assert.Equal("127.0.0.1:9100", targets["node"]);
    }

    [Fact]
    public void CheckRules_AlertsYml_HasTheEightAlerts()
    {
        CommandResult r = DeployFiles.Tool("promtool", "prometheus", "check", "rules", DeployFiles.AlertRules);
        Assert.True(r.ExitCode == 0, DeployFiles.Output(r));
        string[] alerts = AlertRules.All().Select(a => a.Name).ToArray();
        Assert.Equal(["XdpstackDown", "XdpstackDropRatioHigh", "XdpstackRxRingFull", "XdpstackFillRingEmpty",
            "XdpstackWorkerSaturated", "XdpstackUmemNearlyExhausted", "XdpstackConfigReloadFailed", "XdpstackInterfaceDown"], alerts);
    }

    [Fact]
    public void EveryAlert_HasForSeveritySummaryAndDescription()
    {
        foreach (AlertRules.Rule rule in AlertRules.All())
        {
            Assert.True(rule.For is not null, $"{rule.Name} has no 'for'");
            Assert.Contains(rule.Severity, (string[])["critical", "warning"]);
            Assert.False(string.IsNullOrWhiteSpace(rule.Summary), $"{rule.Name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(rule.Description), $"{rule.Name} has no description");
        }
    }

    [Fact]
    public void CheckRules_ABrokenExpression_Fails()
    {
        string dir = DeployFiles.TempDirectory();
        try
        {
            string broken = Path.Combine(dir, "alerts.yml");
            File.WriteAllText(broken, File.ReadAllText(DeployFiles.AlertRules)
                .Replace("xdpstack_config_last_reload_successful == 0", "xdpstack_config_last_reload_successful ==", StringComparison.Ordinal));
            CommandResult r = DeployFiles.Tool("promtool", "prometheus", "check", "rules", broken);
            Assert.NotEqual(0, r.ExitCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TestRules_EveryAlertFiresOnItsCauseAndStaysQuietOtherwise()
    {
        CommandResult r = DeployFiles.Tool("promtool", "prometheus", "test", "rules", DeployFiles.AlertTests);
        Assert.True(r.ExitCode == 0, DeployFiles.Output(r));
        // Each alert is the subject of at least one test that expects it to fire and one that expects silence.
        string tests = File.ReadAllText(DeployFiles.AlertTests);
        foreach (AlertRules.Rule rule in AlertRules.All())
            Assert.True(tests.Contains("alertname: " + rule.Name + "\n", StringComparison.Ordinal), $"{rule.Name} has no unit test");
    }

    [Theory]
    [InlineData("> 0.01", "> 0.03")]                               // drop ratio threshold moved past the 2% test series
    [InlineData("< 0.05", "< 0.01")]                               // UMEM threshold moved below the 3% test series
    [InlineData("rate(xdpstack_xsk_rx_ring_full_total[1m])", "rate(xdpstack_xsk_rx_ring_full_total[5m])")] // a single burst would fire
    [InlineData("up{job=\"xdpstack\"} == 0 or absent(up{job=\"xdpstack\"})", "up{job=\"xdpstack\"} == 0")] // a vanished target would go unnoticed
    public void TestRules_AChangedRule_FailsItsUnitTests(string original, string changed)
    {
        string dir = DeployFiles.TempDirectory();
        try
        {
            string rules = File.ReadAllText(DeployFiles.AlertRules);
            Assert.Contains(original, rules);
            File.WriteAllText(Path.Combine(dir, "alerts.yml"), rules.Replace(original, changed, StringComparison.Ordinal));
            File.Copy(DeployFiles.AlertTests, Path.Combine(dir, "alerts.test.yml"));
            CommandResult r = DeployFiles.Tool("promtool", "prometheus", "test", "rules", Path.Combine(dir, "alerts.test.yml"));
            Assert.True(r.ExitCode != 0, "the unit tests did not notice: " + DeployFiles.Output(r));
            Assert.Contains("FAILED", r.StandardOutput + r.StandardError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
