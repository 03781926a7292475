using System.Text.RegularExpressions;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// The metric families a query may name, with their labels: the table of docs/metrics.md (the contract the metrics
/// endpoint implements), prometheus-net's default families, the node_exporter families the host panels use, and
/// Prometheus' own <c>up</c>. Every series also has <c>instance</c> and <c>job</c> from the scrape.
/// </summary>
internal static partial class MetricFamilies
{
    public static IReadOnlySet<string> ScrapeLabels { get; } = new HashSet<string>(StringComparer.Ordinal) { "instance", "job" };

    /// <summary>prometheus-net 8.2.1's DotNetStats families (the names in Prometheus.NetStandard.dll), served beside ours.</summary>
    public static IReadOnlyDictionary<string, string[]> PrometheusNetDefaults { get; } = new Dictionary<string, string[]>
    {
        ["dotnet_collection_count_total"] = ["generation"],
        ["dotnet_total_memory_bytes"] = [],
        ["process_cpu_seconds_total"] = [],
        ["process_num_threads"] = [],
        ["process_open_handles"] = [],
        ["process_private_memory_bytes"] = [],
        ["process_start_time_seconds"] = [],
        ["process_virtual_memory_bytes"] = [],
        ["process_working_set_bytes"] = [],
    };

    /// <summary>The node_exporter families the host panels read (collector cpu and netdev, with their labels).</summary>
    public static IReadOnlyDictionary<string, string[]> NodeExporter { get; } = new Dictionary<string, string[]>
    {
        ["node_cpu_seconds_total"] = ["cpu", "mode"],
        ["node_network_receive_drop_total"] = ["device"],
        ["node_network_transmit_drop_total"] = ["device"],
    };

    /// <summary>Family name to (type, labels), from docs/metrics.md's table.</summary>
    public static IReadOnlyDictionary<string, (string Type, string[] Labels)> Documented(string markdown)
    {
        var families = new Dictionary<string, (string, string[])>(StringComparer.Ordinal);
        foreach (Match row in TableRow().Matches(markdown))
        {
            // "`ring` (`rx`/`tx`/...)": the parenthesised part lists values, not labels.
            string labelsCell = Parenthesised().Replace(row.Groups[3].Value, "");
            string[] labels = Backticked().Matches(labelsCell).Select(m => m.Groups[1].Value).ToArray();
            families[row.Groups[1].Value] = (row.Groups[2].Value.Trim(), labels);
        }
        return families;
    }

    /// <summary>
    /// The labels a series named <paramref name="name"/> carries, or null if no family has it. A histogram family
    /// is queried through its _bucket (with <c>le</c>), _sum and _count series.
    /// </summary>
    public static string[]? LabelsOf(string name, IReadOnlyDictionary<string, (string Type, string[] Labels)> documented)
    {
        if (documented.TryGetValue(name, out var family))
            return family.Labels;
        foreach ((string suffix, string[] extra) in (ReadOnlySpan<(string, string[])>)[("_bucket", ["le"]), ("_sum", []), ("_count", [])])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && documented.TryGetValue(name[..^suffix.Length], out var h) && h.Type.StartsWith("histogram", StringComparison.Ordinal))
                return [.. h.Labels, .. extra];
        }
        if (PrometheusNetDefaults.TryGetValue(name, out string[]? d))
            return d;
        if (NodeExporter.TryGetValue(name, out string[]? n))
            return n;
        return name == "up" ? [] : null;
    }

    [GeneratedRegex(@"^\| `(xdpstack_\w+)` \| ([^|]+) \|([^|]*)\|", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex(@"\([^)]*\)")]
    private static partial Regex Parenthesised();

    [GeneratedRegex(@"`(\w+)`")]
    private static partial Regex Backticked();
}
