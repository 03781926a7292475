using System.Text.Json;
using System.Text.Json.Nodes;
using XdpStack.Lab;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// deploy/grafana: the dashboard conforms to Grafana's published schema (tools/dashboard-check: @grafana/schema with
/// tsc, installed by .ci/setup from its lock file), and every query goes to the provisioned data source.
/// </summary>
public sealed class DashboardSchemaTests
{
    private const string DataSourceUid = "xdpstack-prometheus";

    [Fact]
    public void SchemaCheck_Dashboard_Conforms()
    {
        CommandResult r = CheckDashboard(DeployFiles.Dashboard);
        Assert.True(r.ExitCode == 0, DeployFiles.Output(r));
        Assert.Contains("1 file(s) conform to @grafana/schema", r.StandardOutput);
    }

    public static TheoryData<string, string> Mutations => new()
    {
        // A misspelled field, which a JSON import would let through unnoticed.
        { "a panel's gridPos spelt gridPoss", "gridPoss" },
        { "refresh as a number", "Type 'number' is not assignable to type 'string'" },
        { "a stat panel's textMode outside its enumeration", "\"fancy\"" },
        { "an unknown field in a time series' custom field config", "lineWidht" },
        { "a panel type the check has no schema for", "has type \"piechart\"" },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public void SchemaCheck_AWrongDashboard_Fails(string mutation, string expectedInOutput)
    {
        JsonNode dashboard = JsonNode.Parse(File.ReadAllText(DeployFiles.Dashboard))!;
        JsonArray panels = dashboard["panels"]!.AsArray();
        JsonObject stat = panels.First(p => (string?)p!["type"] == "stat")!.AsObject();
        JsonObject series = panels.First(p => (string?)p!["type"] == "timeseries")!.AsObject();
        switch (mutation)
        {
            case "a panel's gridPos spelt gridPoss":
                JsonNode pos = stat["gridPos"]!;
                stat.Remove("gridPos");
                stat["gridPoss"] = pos;
                break;
            case "refresh as a number":
                dashboard["refresh"] = 10;
                break;
            case "a stat panel's textMode outside its enumeration":
                stat["options"]!["textMode"] = "fancy";
                break;
            case "an unknown field in a time series' custom field config":
                series["fieldConfig"]!["defaults"]!["custom"]!["lineWidht"] = 2;
                break;
            case "a panel type the check has no schema for":
                series["type"] = "piechart";
                break;
        }
        string dir = DeployFiles.TempDirectory();
        try
        {
            string path = Path.Combine(dir, "dashboard.json");
            File.WriteAllText(path, dashboard.ToJsonString());
            CommandResult r = CheckDashboard(path);
            Assert.True(r.ExitCode != 0, $"{mutation} passed the check: {DeployFiles.Output(r)}");
            Assert.Contains(expectedInOutput, r.StandardError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Provisioning_DataSourceHasTheUidEveryPanelTargetAndVariableNames()
    {
        JsonElement source = DeployFiles.Yaml(DeployFiles.DataSource).GetProperty("datasources")[0];
        Assert.Equal(DataSourceUid, source.GetProperty("uid").GetString());
        Assert.Equal("prometheus", source.GetProperty("type").GetString());

        JsonElement dashboard = DeployFiles.Json(DeployFiles.Dashboard);
        var panels = DashboardQueries.Panels(dashboard).Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.True(panels.Count >= 30, $"only {panels.Count} panels");
        foreach (JsonElement panel in panels)
        {
            string title = panel.GetProperty("title").GetString()!;
            AssertDataSource(panel.GetProperty("datasource"), title);
            Assert.True(panel.GetProperty("targets").GetArrayLength() > 0, $"panel '{title}' has no query");
            foreach (JsonElement target in panel.GetProperty("targets").EnumerateArray())
                AssertDataSource(target.GetProperty("datasource"), title + " / " + target.GetProperty("refId").GetString());
        }
        foreach (JsonElement variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
            AssertDataSource(variable.GetProperty("datasource"), "variable " + variable.GetProperty("name").GetString());
    }

    [Fact]
    public void Dashboard_PanelIdsAreUniqueAndNoTwoPanelsOverlap()
    {
        var panels = DashboardQueries.Panels(DeployFiles.Json(DeployFiles.Dashboard)).ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        var boxes = panels.Select(p => (Title: p.GetProperty("title").GetString()!, Pos: p.GetProperty("gridPos"))).ToList();
        for (int i = 0; i < boxes.Count; i++)
        {
            (int x, int y, int w, int h) a = Box(boxes[i].Pos);
            Assert.True(a.x >= 0 && a.x + a.w <= 24, $"'{boxes[i].Title}' is outside the 24-column grid");
            for (int j = i + 1; j < boxes.Count; j++)
            {
                (int x, int y, int w, int h) b = Box(boxes[j].Pos);
                bool overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
                Assert.False(overlap, $"'{boxes[i].Title}' and '{boxes[j].Title}' overlap");
            }
        }
    }

    private static (int x, int y, int w, int h) Box(JsonElement pos) =>
        (pos.GetProperty("x").GetInt32(), pos.GetProperty("y").GetInt32(), pos.GetProperty("w").GetInt32(), pos.GetProperty("h").GetInt32());

    private static void AssertDataSource(JsonElement ds, string where)
    {
        Assert.True(ds.GetProperty("uid").GetString() == DataSourceUid && ds.GetProperty("type").GetString() == "prometheus",
            $"{where}: data source {ds} is not the provisioned {DataSourceUid}");
    }

    private static CommandResult CheckDashboard(string path)
    {
        Assert.True(Directory.Exists(Path.Combine(DeployFiles.DashboardCheck, "node_modules", "@grafana", "schema")),
            "tools/dashboard-check has no node_modules: run `npm ci --prefix tools/dashboard-check` (./test.sh does, through .ci/setup)");
        return DeployFiles.Tool("node", "nodejs", Path.Combine(DeployFiles.DashboardCheck, "check.mjs"), path);
    }
}
