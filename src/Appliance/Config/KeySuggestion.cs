namespace XdpStack.Appliance.Config;

/// <summary>Finds the known name closest to a misspelt one, for "did you mean" hints.</summary>
internal static class KeySuggestion
{
    /// <summary>
    /// The candidate within a few edits of <paramref name="name"/> (case ignored), or null when none is
    /// close enough to be a plausible typo. Ties go to the earlier candidate.
    /// </summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        // One edit per three characters, between 1 and 3: "mtv" may mean "mtu", but not "mac".
        int limit = Math.Clamp(name.Length / 3, 1, 3);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            int distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance <= limit && distance < bestDistance && candidate != name)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
