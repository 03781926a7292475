using System.Text.RegularExpressions;

namespace XdpStack.Appliance.Tests.Deploy;

/// <summary>
/// The metric and label names a PromQL expression uses, found lexically: enough for the expressions of the
/// dashboard and the alert rules (selectors, aggregations with by/without, binary operators, functions), and
/// tested on its own so that a miss shows up as a failing test rather than as a name that goes unchecked.
/// </summary>
internal static partial class PromQlNames
{
    public readonly record struct Names(IReadOnlySet<string> Metrics, IReadOnlySet<string> Labels);

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal) { "and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan", "Inf", "NaN" };

    public static Names Of(string expr)
    {
        var labels = new HashSet<string>(StringComparer.Ordinal);
        // Grafana's variables ($device, $__rate_interval) stand in for values and durations, never for names.
        string e = Variable().Replace(expr, "");
        e = StringLiteral().Replace(e, "\"\"");
        foreach (Match m in Selector().Matches(e))
            foreach (Match matcher in Matcher().Matches(m.Groups[1].Value))
                labels.Add(matcher.Groups[1].Value);
        e = Selector().Replace(e, " ");
        foreach (Match m in Grouping().Matches(e))
            foreach (string l in m.Groups[2].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                labels.Add(l);
        e = Grouping().Replace(e, " ");
        e = RangeOrSubquery().Replace(e, " ");
        var metrics = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Identifier().Matches(e))
        {
            if (!m.Groups[2].Success && !Keywords.Contains(m.Groups[1].Value))
                metrics.Add(m.Groups[1].Value);
        }
        return new Names(metrics, labels);
    }

    /// <summary>The label names a Grafana legend reads ({{device}}).</summary>
    public static IEnumerable<string> LegendLabels(string legend) => LegendLabel().Matches(legend).Select(m => m.Groups[1].Value);

    /// <summary>The label names an alert's annotation template reads ($labels.device; its {{ }} hold Go template code).</summary>
    public static IEnumerable<string> AlertTemplateLabels(string annotation) => TemplateLabel().Matches(annotation).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"\$\{?\w+\}?")]
    private static partial Regex Variable();

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|'(?:[^'\\]|\\.)*'")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")]
    private static partial Regex Matcher();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex RangeOrSubquery();

    // A name not preceded by a digit or a dot (so 1e6 and 0.5 are not names); group 2 marks a function call.
    [GeneratedRegex(@"(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"\{\{\s*([a-zA-Z_]\w*)\s*\}\}")]
    private static partial Regex LegendLabel();

    [GeneratedRegex(@"\$labels\.([a-zA-Z_]\w*)")]
    private static partial Regex TemplateLabel();
}
