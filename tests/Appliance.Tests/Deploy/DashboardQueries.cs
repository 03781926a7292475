using System.Text.Json;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>The panels and PromQL expressions of deploy/grafana/dashboards/xdpstack.json.</summary>
internal static class DashboardQueries
{
    /// <summary>Every panel, rows included, and the panels inside collapsed rows.</summary>
    public static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (JsonElement panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out JsonElement inner))
                foreach (JsonElement p in inner.EnumerateArray())
                    yield return p;
        }
    }

    /// <summary>(where, expression, legend) for every query of every panel and every query variable.</summary>
    public static IEnumerable<(string Where, string Expr, string Legend)> All(JsonElement dashboard)
    {
        foreach (JsonElement panel in Panels(dashboard))
        {
            if (!panel.TryGetProperty("targets", out JsonElement targets))
                continue;
            foreach (JsonElement t in targets.EnumerateArray())
                yield return ($"panel '{panel.GetProperty("title").GetString()}' {t.GetProperty("refId").GetString()}",
                    t.GetProperty("expr").GetString()!, t.TryGetProperty("legendFormat", out JsonElement l) ? l.GetString() ?? "" : "");
        }
        foreach (JsonElement v in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            // label_values(SELECTOR, LABEL): the selector is PromQL, the label must be one of its family's.
            string query = v.GetProperty("query").GetString()!;
            const string Prefix = "label_values(";
            Assert.StartsWith(Prefix, query);
            int comma = query.LastIndexOf(',');
            string label = query[(comma + 1)..].TrimEnd(')').Trim();
            yield return ($"variable '{v.GetProperty("name").GetString()}'", query[Prefix.Length..comma], "{{" + label + "}}");
        }
    }
}
