namespace XdpStack.Appliance.Cli;

/// <summary>Parses index lists such as <c>0-3,6</c> (queues, CPUs).</summary>
internal static class IndexList
{
    private const int MaxIndex = 4095;

    /// <summary>
    /// Parses a comma-separated list of indexes and inclusive ranges, in the order given, without
    /// duplicates. Returns false with a reason for anything else.
    /// </summary>
    public static bool TryParse(string text, out int[] indexes, out string error)
    {
        var result = new List<int>();
        indexes = [];
        error = "";
        foreach (string rawPart in text.Split(','))
        {
            string part = rawPart.Trim();
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            int first, last;
            if (dash < 0)
            {
                if (!TryParseIndex(part, out first))
                {
                    error = $"'{part}' is not an index (expected a number from 0 to {MaxIndex}, or a range like 0-3)";
                    return false;
                }
                last = first;
            }
            else if (!TryParseIndex(part[..dash], out first) || !TryParseIndex(part[(dash + 1)..], out last) || last < first)
            {
                error = $"'{part}' is not a range (expected FIRST-LAST with FIRST <= LAST)";
                return false;
            }
            for (int i = first; i <= last; i++)
            {
                if (result.Contains(i))
                {
                    error = $"index {i} appears twice in '{text}'";
                    return false;
                }
                result.Add(i);
            }
        }
        indexes = [.. result];
        return true;
    }

    private static bool TryParseIndex(string s, out int value) =>
        int.TryParse(s.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value)
        && value <= MaxIndex;
}
