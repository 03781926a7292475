using System.Text.RegularExpressions;

namespace XdpStack.Appliance.Tests.Metrics;

/// <summary>The tables of docs/metrics.md, the contract other tools are written against.</summary>
internal static partial class MetricsDoc
{
    /// <summary>One row of the families table.</summary>
    public sealed record Family(string Name, string Type, string[] Labels);

    /// <summary>Every row of the "Families" table: name, type (counter, gauge, histogram) and label names.</summary>
    public static IReadOnlyList<Family> Families()
    {
        var families = new List<Family>();
        foreach (string line in Section("## Families"))
        {
            Match m = FamilyRow().Match(line);
            if (!m.Success)
                continue;
            string type = m.Groups["type"].Value.Trim();
            type = type.StartsWith("gauge", StringComparison.Ordinal) ? "gauge" : type;
            string[] labels = [.. LabelName().Matches(m.Groups["labels"].Value).Select(l => l.Groups[1].Value)];
            families.Add(new Family(m.Groups["name"].Value, type, labels));
        }
        return families;
    }

    /// <summary>The reasons listed in the "Drop reasons" table.</summary>
    public static IReadOnlyList<string> DropReasons() =>
        [.. Section("## Drop reasons").Select(l => ReasonRow().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value)];

    private static IEnumerable<string> Section(string heading)
    {
        string[] lines = RepositoryFiles.Read("docs/metrics.md").Split('\n');
        int start = Array.FindIndex(lines, l => l.TrimEnd() == heading);
        Assert.True(start >= 0, $"docs/metrics.md has no '{heading}'");
        for (int i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
            yield return lines[i];
    }

    // | `xdpstack_x` | counter | `device`, `queue` (...) | what |
    [GeneratedRegex(@"^\| `(?<name>xdpstack_[a-z_]+)` \| (?<type>[^|]+) \|(?<labels>[^|]*)\|")]
    private static partial Regex FamilyRow();

    // A label name: the first backquoted word of each comma-separated item, before any parenthesised values.
    [GeneratedRegex(@"(?:^|,)\s*`([a-z_]+)`")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"^\| `([a-z0-9_]+)` \|")]
    private static partial Regex ReasonRow();
}
