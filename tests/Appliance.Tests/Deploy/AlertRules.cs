using System.Text.Json;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>The alerting rules of deploy/prometheus/alerts.yml, read for the tests.</summary>
internal static class AlertRules
{
    public sealed record Rule(string Name, string Expr, string? For, string Severity, string Summary, string Description);

    public static IReadOnlyList<Rule> All() =>
        DeployFiles.Yaml(DeployFiles.AlertRules).GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => new Rule(
                r.GetProperty("alert").GetString()!,
                r.GetProperty("expr").GetString()!,
                r.TryGetProperty("for", out JsonElement f) ? f.GetString() : null,
                r.GetProperty("labels").GetProperty("severity").GetString()!,
                r.GetProperty("annotations").GetProperty("summary").GetString()!,
                r.GetProperty("annotations").GetProperty("description").GetString()!))
            .ToList();
}
