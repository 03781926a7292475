using System.Text.RegularExpressions;
using XdpStack.Appliance.Demo;
using XdpStack.Appliance.Tests.Cli;
using XdpStack.Appliance.Tests.Run;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// The deployment's Prometheus, for real: `xdpstack run` routes traffic in a lab while Debian's Prometheus scrapes it
/// (and node_exporter) with deploy/prometheus/prometheus.yml and alerts.yml. Every expression of the dashboard and of
/// the alert rules returns data, and alerts fire when their cause is produced.
/// </summary>
[Trait("Category", "Root")]
[Collection(XdpstackProcess.Collection)]
public sealed partial class PrometheusLabTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    // Grafana's $__rate_interval with the data source's 5 s scrape interval: four scrapes.
    private const string RateInterval = "20s";

    [Fact]
    public void Prometheus_WhileTrafficFlows_EveryDashboardAndRuleExpressionHasData_AndAlertsFireOnTheirCause()
    {
        using var lab = new RunLab();
        string config = WriteConfig(lab);
        try
        {
            using XdpstackProcess router = XdpstackProcess.Start(lab.Dut, "run", "-c", config);
            router.WaitForOutput("xdpstack: ready", StartTimeout);
            using var prometheus = new LabPrometheus(lab.Dut);

            // A real scrape is clean by promtool's rules.
            string scrape = prometheus.Get(9469, "/metrics");
            string scrapeFile = Path.Combine(Path.GetTempPath(), $"xdpstack-scrape-{Guid.NewGuid():N}.txt");
            File.WriteAllText(scrapeFile, scrape);
            try
            {
                CommandResult lint = DeployFiles.Tool("sh", "dash", "-c", "promtool check metrics < \"$0\"", scrapeFile);
                Assert.True(lint.ExitCode == 0, "promtool check metrics: " + DeployFiles.Output(lint));
            }
            finally
            {
                File.Delete(scrapeFile);
            }

            using var traffic = new Traffic(lab);
            // One reload that applies, so the reload counter has moved.
            router.Signal("HUP");
            router.WaitForOutput("reloaded", TimeSpan.FromSeconds(10));
            // Enough scrapes for every rate window: 20 s of traffic and then some.
            prometheus.WaitFor(() => Count(prometheus, "count_over_time(up{job=\"xdpstack\"}[1m])") >= 8
                && Count(prometheus, "count_over_time(up{job=\"node\"}[1m])") >= 8, TimeSpan.FromSeconds(90), "8 scrapes of each target did not happen");
            Assert.Equal(1, Count(prometheus, "up{job=\"xdpstack\"}"));
            Assert.Equal(1, Count(prometheus, "up{job=\"node\"}"));

            var empty = new List<string>();
            foreach ((string where, string expr, string _) in DashboardQueries.All(DeployFiles.Json(DeployFiles.Dashboard)))
            {
                string query = Substitute(expr);
                if (where.StartsWith("variable", StringComparison.Ordinal))
                    continue;
                (System.Text.Json.JsonElement[] result, string? error) = prometheus.Query(query);
                if (error is not null || result.Length == 0)
                    empty.Add($"{where}: {query} -> {error ?? "no data"}");
            }
            foreach (AlertRules.Rule rule in AlertRules.All())
            {
                string measured = LeftOfLastComparison(rule.Expr);
                (System.Text.Json.JsonElement[] result, string? error) = prometheus.Query(measured);
                if (error is not null || result.Length == 0)
                    empty.Add($"alert {rule.Name}: {measured} -> {error ?? "no data"}");
            }
            Assert.True(empty.Count == 0, "expressions without data:\n" + string.Join("\n", empty));
            Assert.Equal([lab.DutAIf, lab.DutBIf], prometheus.LabelValues("device", "xdpstack_receive_packets_total").Order());
            Assert.NotEmpty(prometheus.LabelValues("queue", "xdpstack_receive_packets_total{device=~\".*\"}"));
            Assert.DoesNotContain("firing", prometheus.Alerts().Values);

            // A refused reload: the last-reload gauge drops to 0 and XdpstackConfigReloadFailed (for: 0m) fires.
            string good = File.ReadAllText(config);
            File.WriteAllText(config, "[[interface]\nname = \n");
            router.Signal("HUP");
            router.WaitForError("reload of", TimeSpan.FromSeconds(10));
            prometheus.WaitFor(() => prometheus.Alerts().GetValueOrDefault("XdpstackConfigReloadFailed") == "firing",
                TimeSpan.FromSeconds(30), "XdpstackConfigReloadFailed did not fire");
            File.WriteAllText(config, good);
            router.Signal("HUP");
            prometheus.WaitFor(() => !prometheus.Alerts().ContainsKey("XdpstackConfigReloadFailed"),
                TimeSpan.FromSeconds(30), "XdpstackConfigReloadFailed did not clear after a good reload");

            // The appliance stops: the scrape fails, and XdpstackDown fires once it has failed for a minute.
            traffic.Dispose();
            router.Signal("TERM");
            Assert.Equal(0, router.WaitForExit(TimeSpan.FromSeconds(5)));
            prometheus.WaitFor(() => prometheus.Alerts().GetValueOrDefault("XdpstackDown") == "pending",
                TimeSpan.FromSeconds(20), "XdpstackDown did not go pending");
            prometheus.WaitFor(() => prometheus.Alerts().GetValueOrDefault("XdpstackDown") == "firing",
                TimeSpan.FromSeconds(90), "XdpstackDown did not fire");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Theory]
    [InlineData("sum(rate(a[5m])) / sum(rate(b[5m])) > 0.01", "sum(rate(a[5m])) / sum(rate(b[5m]))")]
    [InlineData("up{job=\"xdpstack\"} == 0 or absent(up{job=\"xdpstack\"})", "up{job=\"xdpstack\"}")]
    [InlineData("sum by (d) (rate(x{q=~\"1|2\", r!=\"a>b\"}[1m])) > 0", "sum by (d) (rate(x{q=~\"1|2\", r!=\"a>b\"}[1m]))")]
    public void LeftOfLastComparison_IgnoresMatchersAndStrings(string expr, string left) =>
        Assert.Equal(left, LeftOfLastComparison(expr));

    /// <summary>The dashboard's variables as Grafana fills them with "All" selected (any value).</summary>
    private static string Substitute(string expr)
    {
        string q = expr.Replace("$__rate_interval", RateInterval, StringComparison.Ordinal)
            .Replace("$device", ".*", StringComparison.Ordinal).Replace("$queue", ".*", StringComparison.Ordinal);
        Assert.DoesNotContain("$", q);
        return q;
    }

    /// <summary>An alert expression without its threshold: the series the rule compares, which must exist whether or not it fires.</summary>
    private static string LeftOfLastComparison(string expr)
    {
        int depth = 0, last = -1;
        for (int i = 0; i < expr.Length; i++)
        {
            char c = expr[i];
            if (c == '"')
            {
                i = expr.IndexOf('"', i + 1);
                continue;
            }
            if (c is '(' or '[' or '{')
                depth++;
            else if (c is ')' or ']' or '}')
                depth--;
            else if (depth == 0 && (c is '>' or '<' || (c is '=' or '!' && i + 1 < expr.Length && expr[i + 1] == '=')))
            {
                last = i;
                if (i + 1 < expr.Length && expr[i + 1] == '=')
                    i++;
            }
        }
        Assert.True(last > 0, "no comparison in " + expr);
        return expr[..last].TrimEnd();
    }

    private static int Count(LabPrometheus prometheus, string expr)
    {
        (System.Text.Json.JsonElement[] result, string? error) = prometheus.Query(expr);
        Assert.Null(error);
        return result.Length == 0 ? 0 : (int)double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string WriteConfig(RunLab lab)
    {
        string path = Path.Combine(Path.GetTempPath(), $"xdpstack-{lab.Tag}-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, $"""
            # Written by PrometheusLabTests: host A — xdpstack — host B, metrics on the default listener.
            [workers]
            cores = [{Environment.ProcessorCount - 1}]

            [xdp]
            frames_per_worker = 8192
            lpm_huge_pages = false

            [[interface]]
            name = "{lab.DutAIf}"
            addresses = ["{RunLab.RouterAIpv4}/24", "{RunLab.RouterAIpv6}/64"]

            [[interface]]
            name = "{lab.DutBIf}"
            addresses = ["{RunLab.RouterBIpv4}/24", "{RunLab.RouterBIpv6}/64"]

            [[service]]
            kind = "udp-echo"
            port = 7
            """);
        return path;
    }

    /// <summary>
    /// Traffic until disposed: UDP both ways in both families, pings through and to the router, and packets the
    /// router drops and answers with ICMP errors (TTL 1, an unrouted destination).
    /// </summary>
    private sealed class Traffic : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;

        public Traffic(RunLab lab)
        {
            _thread = new Thread(() =>
            {
                // An exception escaping this thread would take the whole test host down; the assertions on the
                // scraped data say whether traffic flowed.
                try
                {
                    while (!_stop.IsCancellationRequested)
                    {
                        UdpTransfer.Run(lab.HostA, RunLab.HostAIpv4, lab.HostB, RunLab.HostBIpv4, 2_000, burst: 32);
                        UdpTransfer.Run(lab.HostB, RunLab.HostBIpv6, lab.HostA, RunLab.HostAIpv6, 2_000, burst: 32);
                        lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "1", RunLab.RouterAIpv4);
                        lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-c", "1", "-W", "1", "-t", "1", RunLab.HostBIpv4);
                        lab.HostA.Run(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "1", "-W", "1", "2001:2:0:99::1");
                    }
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or XdpStack.Lab.LabCommandException)
                {
                    // The lab is going away under a failing test.
                }
            })
            { IsBackground = true, Name = "lab traffic" };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
        }
    }
}
